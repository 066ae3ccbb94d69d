import { type DynamicModule, Module } from '@nestjs/common';
import { type Clock, systemClock } from './clock.js';

/** Injection token of the {@link Clock} that components which wait use: the system clock in an app, a ManualClock in specs. */
export const CLOCK = Symbol('CLOCK');

/** Provides one clock under {@link CLOCK} to every module of an app. */
@Module({})
export class ClockModule {
  static forRoot(clock: Clock = systemClock): DynamicModule {
    return { module: ClockModule, global: true, providers: [{ provide: CLOCK, useValue: clock }], exports: [CLOCK] };
  }
}
