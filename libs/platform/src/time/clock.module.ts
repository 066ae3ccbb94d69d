import { Global, Module } from '@nestjs/common';
import { systemClock } from './clock.js';

/** Injection token of the {@link Clock} that components which wait use: the system clock in an app, a ManualClock in specs. */
export const CLOCK = Symbol('CLOCK');

/** Provides the system clock under {@link CLOCK} to every module of an app. */
@Global()
@Module({ providers: [{ provide: CLOCK, useValue: systemClock }], exports: [CLOCK] })
export class ClockModule {}
