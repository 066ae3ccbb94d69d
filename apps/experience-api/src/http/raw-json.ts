/** A JSON value kept as the exact text it was sent as, to be passed on unchanged. */
export class RawJson {
  constructor(readonly text: string) {}
}
