import { main } from './entry';

await main({ name: 'all', server: true, worker: true });
