/** Injection token of the validated ExperienceConfig. */
export const EXPERIENCE_CONFIG = Symbol('EXPERIENCE_CONFIG');
