// Builds the Agents SDK CloudAdapter from our config. Used by the HTTP edge and by worker-only processes alike:
// outbound calls need nothing but this adapter and a stored conversation reference.
import { CloudAdapter, type AuthConfiguration, type AuthProvider, type Connections } from '@microsoft/agents-hosting';
import type { TeamsConfig } from './config';
import { clientCredentialsTokens, type TokenSource } from './tokens';

export interface TeamsAdapter {
  adapter: CloudAdapter;
  /** Who we are when continuing a conversation: our app id, or an empty identity (anonymous, local development only). */
  botIdentity: string | { aud?: string };
  appId?: string;
}

/** `fetch`: the transport of the adapter's token requests (the Bot Connector calls are made by the Agents SDK's own
 *  HTTP client, which takes no transport: they are traced as the chat port's operations, orchestrator/traced.ts). */
export function createTeamsAdapter(cfg: TeamsConfig, fetch?: typeof globalThis.fetch): TeamsAdapter {
  if (cfg.mode === 'anonymous') return { adapter: new CloudAdapter({}), botIdentity: {} };
  const auth: AuthConfiguration = {
    clientId: cfg.appId,
    tenantId: cfg.tenantId,
    authority: cfg.loginUrl,
    // Bot Framework channel tokens and Entra tokens of our tenant; any other issuer is refused.
    issuers: ['https://api.botframework.com', `${cfg.loginUrl}/${cfg.tenantId}/v2.0`, `https://sts.windows.net/${cfg.tenantId}/`],
    validateIssuer: true,
  };
  const adapter = new CloudAdapter(auth, undefined, undefined, { validateServiceUrl: true });
  // The SDK's public extension point for token acquisition: our client-credentials source instead of MSAL.
  adapter.connectionManager = tokenConnections(auth, clientCredentialsTokens(cfg, fetch));
  return { adapter, botIdentity: cfg.appId, appId: cfg.appId };
}

function tokenConnections(settings: AuthConfiguration, tokens: TokenSource): Connections {
  const unsupported = async (): Promise<never> => {
    throw new Error('Rolecall does not use agentic or on-behalf-of tokens');
  };
  const provider = {
    connectionSettings: settings,
    getAccessToken: (a: AuthConfiguration | string, scope?: string) => tokens.get(typeof a === 'string' ? a : (scope ?? 'https://api.botframework.com')),
    getAgenticApplicationToken: unsupported,
    getAgenticInstanceToken: unsupported,
    getAgenticUserToken: unsupported,
    acquireTokenOnBehalfOf: unsupported,
  } as AuthProvider;
  return {
    getConnection: () => provider,
    getDefaultConnection: () => provider,
    getTokenProvider: () => provider,
    getTokenProviderFromActivity: () => provider,
    getDefaultConnectionConfiguration: () => settings,
  };
}
