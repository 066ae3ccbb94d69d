import { Logger } from '@nestjs/common';

// Specs exercise failures on purpose; what they log is noise in a test run. An app that a suite
// starts installs its own logger (errors only), which replaces this.
Logger.overrideLogger(false);
