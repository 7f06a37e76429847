// Room for single sign-on. Not implemented: local accounts are the only sign-in today.
// An OIDC provider would implement this interface; the login page would offer its button, and the callback route
// would map the verified email to an AdminUser (or create one with a default role) and then issue the same session
// cookie as a password sign-in (see session.ts).
export interface ExternalIdentityProvider {
  /** Shown on the sign-in button, e.g. "Okta". */
  name: string;
  /** Where to send the browser to sign in; `state` must come back unchanged to the callback. */
  authorizationUrl(state: string, redirectUri: string): Promise<string>;
  /** Exchanges the callback's code for a verified identity. */
  verifyCallback(params: URLSearchParams, expectedState: string, redirectUri: string): Promise<{ email: string; subject: string }>;
}
