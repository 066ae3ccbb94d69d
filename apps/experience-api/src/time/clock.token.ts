/** Injection token of the Clock that components which wait read: systemClock in the app, a ManualClock in specs. */
export const CLOCK = Symbol('CLOCK');
