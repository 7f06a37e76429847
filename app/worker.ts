import { main } from './entry';

await main({ name: 'worker', server: false, worker: true });
