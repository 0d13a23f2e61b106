/**
 * Argument parsing for the `-bs` SMTP server dialogue (pure): the reverse or
 * forward path of MAIL FROM / RCPT TO and the ESMTP parameters after it,
 * RFC 5321 §4.1.2 (Mail-parameters, Rcpt-parameters) and §4.1.1.2.
 *
 * Everything here is untrusted input from the SMTP client.
 */

/** One ESMTP parameter: keyword upper-cased, value as given (undefined for a bare keyword). */
export interface EsmtpParam {
  keyword: string;
  value?: string;
}

export type PathParse = { ok: true; path: string; params: EsmtpParam[] } | { ok: false; reply: string };

/** esmtp-keyword and esmtp-value, RFC 5321 §4.1.2. */
const PARAM_RE = /^([A-Za-z0-9][A-Za-z0-9-]*)(?:=([\x21-\x3c\x3e-\x7e]+))?$/;

/**
 * Parse what follows `FROM:` / `TO:`: one optional space (many clients write
 * `MAIL FROM: <a@b>`), a path in angle brackets (a quoted local part may
 * hold `>`), then parameters separated by spaces. A source route
 * (`<@a,@b:user@c>`) is accepted and dropped, as RFC 5321 §4.1.1.3 allows.
 * The path itself is returned without the brackets and not yet validated.
 *
 * @returns `{ok:false, reply}` with a complete 501 reply on a syntax error.
 */
export function parsePathAndParams(text: string, verb: 'MAIL FROM' | 'RCPT TO'): PathParse {
  const syntax = (why: string): PathParse => ({ ok: false, reply: `501 5.5.4 Syntax: ${verb}:<address> [parameters] (${why})` });
  let s = text.startsWith(' ') ? text.slice(1) : text;
  if (!s.startsWith('<')) return syntax('the address must be in angle brackets');
  let end = -1;
  let inQuote = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (inQuote && c === '\\') {
      i++;
      continue;
    }
    if (c === '"') inQuote = !inQuote;
    else if (c === '>' && !inQuote) {
      end = i;
      break;
    }
  }
  if (end < 0) return syntax('no closing ">"');
  let path = s.slice(1, end);
  s = s.slice(end + 1);
  if (s !== '' && !s.startsWith(' ')) return syntax('text after ">" must be parameters separated by a space');
  if (path.startsWith('@')) {
    const colon = path.indexOf(':');
    if (colon < 0) return syntax('bad source route');
    path = path.slice(colon + 1);
  }
  const params: EsmtpParam[] = [];
  for (const word of s.split(' ').filter((w) => w !== '')) {
    const m = PARAM_RE.exec(word);
    if (!m) return { ok: false, reply: `501 5.5.4 Bad parameter syntax: ${printable(word)}` };
    const keyword = m[1]!.toUpperCase();
    if (params.some((p) => p.keyword === keyword)) return { ok: false, reply: `501 5.5.4 Parameter ${keyword} given twice` };
    params.push(m[2] === undefined ? { keyword } : { keyword, value: m[2] });
  }
  return { ok: true, path, params };
}

/**
 * Check MAIL FROM parameters (pure): SIZE (RFC 1870) against `maxSize`,
 * BODY=7BIT|8BITMIME (RFC 6152), SMTPUTF8 without a value (RFC 6531);
 * anything else is 555.
 * @returns a complete reply line (without CRLF) for the first problem, or undefined.
 */
export function checkMailParams(params: readonly EsmtpParam[], maxSize: number): string | undefined {
  for (const { keyword, value } of params) {
    if (keyword === 'SIZE') {
      if (value === undefined || !/^\d{1,20}$/.test(value)) return '501 5.5.4 Syntax: SIZE=<octets>';
      if (Number(value) > maxSize) return `552 5.3.4 Message too big (more than ${maxSize} octets)`;
    } else if (keyword === 'BODY') {
      const v = value?.toUpperCase();
      if (v !== '7BIT' && v !== '8BITMIME') return '501 5.5.4 Syntax: BODY=7BIT or BODY=8BITMIME';
    } else if (keyword === 'SMTPUTF8') {
      if (value !== undefined) return '501 5.5.4 Syntax: SMTPUTF8 takes no value';
    } else {
      return `555 5.5.4 MAIL FROM parameter ${printable(keyword)} not recognized`;
    }
  }
  return undefined;
}

/** Untrusted text for a reply line: printable ASCII only, at most 100 characters. */
export function printable(text: string): string {
  const t = text.replace(/[^\x20-\x7e]/g, '?');
  return t.length > 100 ? `${t.slice(0, 100)}...` : t;
}
