import { main } from './entry';

await main({ name: 'server', server: true, worker: false });
