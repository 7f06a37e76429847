// Loaded into each parser thread of a test pool (FileParserPoolOptions.testHookModule): the log parser never returns
// and never yields, like a parser stuck in a pathological input.
import { overrideExtractor } from '../../agents/files/extract';

overrideExtractor('log', async () => {
  for (;;) {
    // spin
  }
});
