// Units that log through Nest's static Logger (scheduler, loader, engine) print coloured lines
// to the console when no app has set a logger, burying the test report. Tests assert on
// behaviour, not on log lines; apps booted by e2e specs still install their own (pino) logger,
// silent unless a spec asks for a level.
const { Logger } = require('@nestjs/common');

Logger.overrideLogger(false);
