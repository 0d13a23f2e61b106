/**
 * SMTP AUTH (RFC 4954) on an open session: which mechanism, and whether
 * credentials may be sent at all. The SASL exchanges themselves are
 * nodemailer's (PLAIN RFC 4616, LOGIN, CRAM-MD5 RFC 2195, XOAUTH2); the
 * decisions are here and pure.
 *
 * Rules:
 *  - credentials are never sent before TLS is up, unless the host is in
 *    hosts_auth_cleartext (RFC 4954 §4 and RFC 8314 §3 recommend TLS; msmtp
 *    refuses PLAIN and LOGIN without it);
 *  - when credentials are configured for a host, authentication is required:
 *    a server that offers no usable mechanism is a (temporary) failure, not a
 *    reason to send without authenticating;
 *  - default preference: XOAUTH2 when a token command is configured, then over
 *    TLS PLAIN, LOGIN, CRAM-MD5 (CRAM-MD5 needs the server to keep the password
 *    in a reversible form and adds nothing inside TLS); in cleartext
 *    (hosts_auth_cleartext) CRAM-MD5 first, because it does not reveal the
 *    password to a passive listener. auth_mechanisms replaces this order.
 *  - an authentication failure defers the message (exit 75), as Exim does:
 *    wrong credentials are this machine's configuration problem, and the
 *    message must not be bounced for it. The other addresses of the same host
 *    are not tried (same account: no lockouts), the next host is.
 */
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { SmarthostError } from '../errors.js';
import type { AuthMechanism, HostAuth } from '../types.js';

/** The mechanisms a server offers in its EHLO reply (`250-AUTH PLAIN LOGIN`, also the old `AUTH=`). Pure. */
export function offeredMechanisms(ehlo: string): string[] {
  const out = new Set<string>();
  for (const line of ehlo.split(/\r?\n/)) {
    const m = /^(?:\d{3}[ -])?AUTH[ =](.*)$/i.exec(line.trim());
    if (m) for (const w of m[1]!.split(/[\s=]+/)) if (w) out.add(w.toUpperCase());
  }
  return [...out];
}

const ORDER_TLS: readonly AuthMechanism[] = ['XOAUTH2', 'PLAIN', 'LOGIN', 'CRAM-MD5'];
const ORDER_CLEAR: readonly AuthMechanism[] = ['XOAUTH2', 'CRAM-MD5', 'PLAIN', 'LOGIN'];

export interface AuthSituation {
  /** Mechanisms in the server's EHLO reply. */
  offered: readonly string[];
  /** TLS is up (STARTTLS done or implicit TLS). */
  secure: boolean;
  allowCleartext: boolean;
  havePassword: boolean;
  haveToken: boolean;
  mechanisms?: readonly AuthMechanism[];
}

/**
 * Pick the mechanism to use, or say why credentials must not or cannot be sent (pure).
 */
export function chooseMechanism(s: AuthSituation): { mechanism: AuthMechanism } | { refuse: string } {
  if (!s.secure && !s.allowCleartext) {
    return { refuse: 'TLS is not up and credentials are never sent in cleartext (host not in hosts_auth_cleartext)' };
  }
  if (s.offered.length === 0) return { refuse: 'credentials are configured but the server does not offer AUTH' };
  const order = s.mechanisms ?? (s.secure ? ORDER_TLS : ORDER_CLEAR);
  const usable = order.filter((m) => (m === 'XOAUTH2' ? s.haveToken : s.havePassword));
  const mechanism = usable.find((m) => s.offered.includes(m));
  if (!mechanism) {
    return { refuse: `the server offers AUTH ${s.offered.join(' ')} but the credentials allow only ${usable.join(' ') || '(nothing)'}` };
  }
  return { mechanism };
}

/** The XOAUTH2 initial response (Google's SASL XOAUTH2 format), base64. */
export function xoauth2Response(user: string, token: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`, 'utf8').toString('base64');
}

export interface AuthContext {
  /** `canonical [address]:port`, the prefix of every session error. */
  where: string;
  queried: string;
  address: string;
  ehlo: string;
  secure: boolean;
  /** Called once the mechanism is known, before anything is sent. */
  onChoice?: (mechanism: AuthMechanism) => void;
}

/**
 * Authenticate on `conn`. Nothing secret goes into the error messages.
 * @throws SmarthostError E_AUTH (temp) when credentials must not be sent, no
 *   mechanism fits, a secret command fails, or the server rejects them
 *   (detail.responseCode holds the reply code). Other failures (the
 *   connection drops) come back as nodemailer's error, for classifySmtpError.
 */
export async function authenticate(conn: SMTPConnection, auth: HostAuth, ctx: AuthContext): Promise<void> {
  const choice = chooseMechanism({
    offered: offeredMechanisms(ctx.ehlo),
    secure: ctx.secure,
    allowCleartext: auth.allowCleartext,
    havePassword: auth.password !== undefined,
    haveToken: auth.token !== undefined,
    mechanisms: auth.mechanisms,
  });
  const detail = { host: ctx.queried, address: ctx.address, stage: 'auth' as const };
  if ('refuse' in choice) {
    throw new SmarthostError('E_AUTH', 'temp', `${ctx.where}: not authenticating as "${auth.username}" (${auth.source}): ${choice.refuse}`, detail);
  }
  const method = choice.mechanism;
  ctx.onChoice?.(method);
  let data: SMTPConnection.AuthenticationType;
  if (method === 'XOAUTH2') {
    const token = auth.token!;
    await token(false); // a failing command fails here, before anything is sent
    const oauth2 = {
      // nodemailer rewrites the code of the error it is given: hand it a wrapper, keep ours as the cause
      getToken: (fresh: boolean, cb: (err: Error | null, token?: string) => void) =>
        token(fresh).then(
          (t) => cb(null, t),
          (e: Error) => cb(new Error(e.message, { cause: e })),
        ),
      buildXOAuth2Token: (t?: string) => xoauth2Response(auth.username, t ?? ''),
    };
    data = { user: auth.username, method, oauth2: oauth2 as never };
  } else {
    data = { user: auth.username, pass: await auth.password!(), method };
  }
  await new Promise<void>((resolve, reject) =>
    conn.login(data, (err) => {
      if (!err) return resolve();
      const e = err as SMTPConnection.SMTPError;
      if (e.code !== 'EAUTH') return reject(err);
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof SmarthostError) return reject(cause);
      const reply = String(e.response ?? '').replace(/\r?\n/g, ' / ').trim();
      const code = Number(e.responseCode ?? (/^\d{3}/.exec(reply)?.[0] ?? 0));
      reject(
        new SmarthostError(
          'E_AUTH',
          'temp',
          `${ctx.where}: authentication as "${auth.username}" (${auth.source}) with AUTH ${method} failed: ${reply || e.message}`,
          { ...detail, response: reply, responseCode: code || undefined },
        ),
      );
    }),
  );
}
