// Console account emails. The rule is the one browsers apply to <input type="email"> (WHATWG HTML), so that a
// single-label domain such as the first owner's "admin@localhost" or an intranet "ops@corp" is accepted, where
// zod's .email() (which wants a dot in the domain) would refuse it.
import { z } from 'zod';

const HTML_EMAIL = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Trimmed and lower-cased, then checked: the form every console email is stored and looked up in. */
export const consoleEmail = z.string().trim().toLowerCase().max(254).regex(HTML_EMAIL, 'must be an email address, e.g. you@example.com');

/** A new password: 12 to 500 characters (500 bounds the scrypt input a request can make us hash). */
export const newPassword = z.string().min(12, 'must be at least 12 characters').max(500, 'must be at most 500 characters');
