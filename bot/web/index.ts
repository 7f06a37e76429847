// The web chat platform (the console's playground): its ChatPort, its file downloader and its console routes, built
// on one WebStore. The composition root (app/) wires the port into the engine and the routes into the console.
export { webChat, webFiles } from './chat';
export { mountPlayground, type PlaygroundDeps } from './routes';
export { WebStore, WEB_TEAM } from './store';
