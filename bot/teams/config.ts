// Microsoft Teams settings: part of the environment schema in config.ts (the only place that reads the environment).
import { z } from 'zod';

const optional = z.string().trim().min(1).optional();
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').default(false);

export const TEAMS_ENV = {
  TEAMS_APP_ID: optional,
  TEAMS_APP_PASSWORD: optional,
  TEAMS_APP_CERTIFICATE_FILE: optional,
  TEAMS_APP_CERTIFICATE_KEY_FILE: optional,
  TEAMS_TENANT_ID: optional,
  TEAMS_APP_TYPE: z.enum(['SingleTenant', 'MultiTenant']).default('SingleTenant'),
  TEAMS_ALLOW_ANONYMOUS: flag,
  TEAMS_LOGIN_URL: z.string().url().default('https://login.microsoftonline.com'),
};

const teamsEnvObject = z.object(TEAMS_ENV);
type TeamsEnv = z.infer<typeof teamsEnvObject> & { NODE_ENV: string };

export type TeamsCredential =
  | { kind: 'password'; password: string }
  | { kind: 'certificate'; certificateFile: string; keyFile: string };

export type TeamsConfig =
  | { mode: 'anonymous' }
  | {
      mode: 'authenticated';
      appId: string;
      /** The tenant that issues inbound tokens and outbound tokens (botframework.com for multi-tenant bots). */
      tenantId: string;
      tokenTenant: string;
      appType: 'SingleTenant' | 'MultiTenant';
      credential: TeamsCredential;
      /** Entra ID base URL: inbound token keys at {loginUrl}/{tenant}/discovery/v2.0/keys, tokens at {loginUrl}/{tenant}/oauth2/v2.0/token. */
      loginUrl: string;
    };

const issue = (ctx: z.RefinementCtx, path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });

export function teamsIssues(env: TeamsEnv, ctx: z.RefinementCtx): void {
  if (env.TEAMS_ALLOW_ANONYMOUS) {
    if (env.NODE_ENV === 'production') issue(ctx, 'TEAMS_ALLOW_ANONYMOUS', 'is refused when NODE_ENV=production (it turns off request authentication)');
    if (env.TEAMS_APP_ID) issue(ctx, 'TEAMS_ALLOW_ANONYMOUS', 'cannot be combined with TEAMS_APP_ID (unset one of them)');
    return;
  }
  const set = (['TEAMS_APP_PASSWORD', 'TEAMS_APP_CERTIFICATE_FILE', 'TEAMS_APP_CERTIFICATE_KEY_FILE', 'TEAMS_TENANT_ID'] as const).filter((k) => env[k]);
  if (!env.TEAMS_APP_ID) {
    for (const k of set) issue(ctx, k, 'is set but TEAMS_APP_ID is not (set TEAMS_APP_ID to turn Teams on)');
    return;
  }
  if (!env.TEAMS_TENANT_ID) issue(ctx, 'TEAMS_TENANT_ID', 'is required when TEAMS_APP_ID is set');
  const cert = !!env.TEAMS_APP_CERTIFICATE_FILE || !!env.TEAMS_APP_CERTIFICATE_KEY_FILE;
  if (env.TEAMS_APP_PASSWORD && cert) issue(ctx, 'TEAMS_APP_PASSWORD', 'set either TEAMS_APP_PASSWORD or the TEAMS_APP_CERTIFICATE_* pair, not both');
  if (!env.TEAMS_APP_PASSWORD && !cert) issue(ctx, 'TEAMS_APP_PASSWORD', 'is required when TEAMS_APP_ID is set (or TEAMS_APP_CERTIFICATE_FILE and TEAMS_APP_CERTIFICATE_KEY_FILE)');
  if (cert && !(env.TEAMS_APP_CERTIFICATE_FILE && env.TEAMS_APP_CERTIFICATE_KEY_FILE)) {
    issue(ctx, env.TEAMS_APP_CERTIFICATE_FILE ? 'TEAMS_APP_CERTIFICATE_KEY_FILE' : 'TEAMS_APP_CERTIFICATE_FILE', 'both certificate files are required');
  }
}

export function teamsConfig(env: TeamsEnv): TeamsConfig | undefined {
  if (env.TEAMS_ALLOW_ANONYMOUS) return { mode: 'anonymous' };
  if (!env.TEAMS_APP_ID || !env.TEAMS_TENANT_ID) return undefined;
  const credential: TeamsCredential = env.TEAMS_APP_PASSWORD
    ? { kind: 'password', password: env.TEAMS_APP_PASSWORD }
    : { kind: 'certificate', certificateFile: env.TEAMS_APP_CERTIFICATE_FILE!, keyFile: env.TEAMS_APP_CERTIFICATE_KEY_FILE! };
  return {
    mode: 'authenticated',
    appId: env.TEAMS_APP_ID,
    tenantId: env.TEAMS_TENANT_ID,
    tokenTenant: env.TEAMS_APP_TYPE === 'MultiTenant' ? 'botframework.com' : env.TEAMS_TENANT_ID,
    appType: env.TEAMS_APP_TYPE,
    credential,
    loginUrl: env.TEAMS_LOGIN_URL.replace(/\/+$/, ''),
  };
}
