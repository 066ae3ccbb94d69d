/** Injection token of the validated source definitions. */
export const SOURCE_DEFINITIONS = Symbol('SOURCE_DEFINITIONS');
