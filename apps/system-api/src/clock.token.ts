/** Injection token of the Clock that components which wait use; the system clock in the app, a ManualClock in specs. */
export const CLOCK = Symbol('CLOCK');
