/** One mail, composed and ready for the transport. */
export interface AlertMail {
  readonly subject: string;
  readonly text: string;
}
