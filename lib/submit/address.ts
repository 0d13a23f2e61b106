/**
 * Envelope addresses: validate and normalise one address from the command
 * line or a header, and turn an address-list header value into addresses.
 *
 * Everything here is untrusted input (argv of an unprivileged caller, header
 * text of a message). The checks guard the SMTP command line the address ends
 * up in (`MAIL FROM:<…>` / `RCPT TO:<…>`, RFC 5321 §4.1.2): a CR or LF would
 * let a caller inject commands or headers, a `<`/`>` would end the path early.
 * Non-ASCII (RFC 6531 SMTPUTF8) is accepted here; whether the server can take
 * it is decided at delivery time.
 */
import addressparser from 'nodemailer/lib/addressparser';
import { SmarthostError } from '../errors.js';

export interface AddressOptions {
  /** Domain appended to an unqualified local part (`root` → `root@<qualifyDomain>`). */
  qualifyDomain: string;
  /** Accept the null sender (`''` or `<>`), returned as `''`. Only for senders. */
  allowNull?: boolean;
}

/** C0 controls, DEL, C1 controls and the Unicode line/paragraph separators. */
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** Same, but a horizontal tab is allowed (folded header values keep their whitespace). */
const CONTROL_NO_TAB_RE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/;
/** RFC 5322 atext plus '.', and any non-ASCII character (RFC 6531 UTF8-non-ascii). */
const ATEXT_RE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.\u0080-\uffff]+$/;
const BAD_ATEXT_RE = /[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.\u0080-\uffff]/;
/** A domain label: letters, digits, hyphen, underscore, or non-ASCII (IDN in U-label form). */
const LABEL_RE = /^[A-Za-z0-9_\-\u0080-\uffff]+$/;
const BAD_LABEL_RE = /[^A-Za-z0-9_\-\u0080-\uffff]/;
/** An unqualified name as it appears alone in a header (`To: root`). */
const BARE_LOCAL_RE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.\u0080-\uffff]+$/;

/**
 * Quote untrusted text for a one-line message: JSON string syntax, with DEL,
 * C1 controls and U+2028/U+2029 also escaped (JSON.stringify leaves those raw).
 */
export function quote(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const bad = (input: string, why: string): SmarthostError =>
  new SmarthostError('E_ADDRESS', 'data', `bad address ${quote(input)}: ${why}`);

/** Split `local@domain` at the '@' that ends the local part (quoted local parts may hold '@'). */
function splitAt(addr: string, input: string): { local: string; domain?: string } {
  if (addr.startsWith('"')) {
    let i = 1;
    for (; i < addr.length; i++) {
      if (addr[i] === '\\') i++;
      else if (addr[i] === '"') break;
    }
    if (i >= addr.length) throw bad(input, 'unterminated quoted local part');
    const local = addr.slice(0, i + 1);
    const rest = addr.slice(i + 1);
    if (rest === '') return { local };
    if (!rest.startsWith('@')) throw bad(input, 'text after the quoted local part');
    return { local, domain: rest.slice(1) };
  }
  const at = addr.lastIndexOf('@');
  return at < 0 ? { local: addr } : { local: addr.slice(0, at), domain: addr.slice(at + 1) };
}

function checkLocal(local: string, input: string): void {
  if (local === '' || local === '""') throw bad(input, 'empty local part');
  if (local.startsWith('"')) return; // quoted-string: any non-control text (controls already rejected)
  if (!ATEXT_RE.test(local)) {
    const c = BAD_ATEXT_RE.exec(local)![0];
    throw bad(input, `character ${quote(c)} not allowed in an unquoted local part`);
  }
}

function checkDomain(domain: string, input: string): void {
  if (domain === '') throw bad(input, 'empty domain');
  if (domain.startsWith('[')) {
    const m = /^\[(?:IPv6:([0-9A-Fa-f:.]+)|([0-9.]+))\]$/.exec(domain);
    const net = process.getBuiltinModule('node:net'); // only for address literals: start-up time
    if (!m || (m[1] !== undefined ? !net.isIPv6(m[1]) : !net.isIPv4(m[2]!))) throw bad(input, 'bad address literal');
    return;
  }
  for (const label of domain.split('.')) {
    if (label === '') throw bad(input, 'empty label in domain');
    if (!LABEL_RE.test(label)) {
      const c = BAD_LABEL_RE.exec(label)![0];
      throw bad(input, `character ${quote(c)} not allowed in a domain`);
    }
  }
}

/**
 * Validate and normalise one envelope address.
 *
 * Surrounding whitespace and one pair of surrounding `<>` are removed; an
 * unqualified local part is qualified with `opts.qualifyDomain`. The local
 * part keeps its case (RFC 5321 §2.4), the domain is returned as given.
 *
 * @returns the address, or `''` for the null sender when `opts.allowNull`.
 * @throws SmarthostError E_ADDRESS (kind 'data') naming the address (control
 *   characters escaped) and the reason: control characters (CR/LF/NUL…, which
 *   would inject SMTP commands or headers), `<`/`>` inside, an empty local part
 *   or domain, characters outside RFC 5322 atext in an unquoted local part,
 *   a bad domain label or address literal.
 */
export function normalizeAddress(input: string, opts: AddressOptions): string {
  if (CONTROL_RE.test(input)) throw bad(input, 'control character');
  let addr = input.trim();
  if (addr.startsWith('<') && addr.endsWith('>')) addr = addr.slice(1, -1).trim();
  if (addr === '') {
    if (opts.allowNull) return '';
    throw bad(input, 'empty address');
  }
  if (/[<>]/.test(addr)) throw bad(input, "'<' or '>' inside the address");
  if (!addr.startsWith('"') && /\s/.test(addr)) throw bad(input, 'white space inside the address');
  const { local, domain } = splitAt(addr, input);
  checkLocal(local, input);
  const d = domain ?? opts.qualifyDomain;
  if (domain === undefined && d === '') throw bad(input, 'unqualified, and no domain to qualify it with');
  checkDomain(d, input);
  return `${local}@${d}`;
}

/**
 * The key under which two addresses are the same recipient: the local part
 * as is (it may be case-sensitive, RFC 5321 §2.4), the domain lower-cased.
 * Expects an address returned by {@link normalizeAddress}.
 */
export function addressKey(addr: string): string {
  const at = addr.lastIndexOf('@');
  return at < 0 ? addr : addr.slice(0, at + 1) + addr.slice(at + 1).toLowerCase();
}

/**
 * Parse an address list (a To/Cc/Bcc header value, or one sendmail argument,
 * which may also be a comma-separated list) into normalised addresses, using
 * nodemailer's RFC 5322 address parser: display names (`"Doe, John" <j@x>`),
 * comments, and groups (`Team: a@x, b@y;`, `undisclosed-recipients:;`) are
 * understood; group members are returned in order, empty groups give nothing.
 *
 * A lone word without `@` (`To: root`, as cron writes it) is taken as an
 * unqualified local part and qualified. An empty entry (`<>`, `a@x,,b@y`) is
 * skipped.
 *
 * @throws SmarthostError E_ADDRESS (kind 'data') for control characters in the
 *   value (tab allowed), for an entry that is text but no address
 *   (`foo bar`), and for any address {@link normalizeAddress} rejects.
 */
export function parseAddressList(value: string, opts: AddressOptions): string[] {
  if (CONTROL_NO_TAB_RE.test(value)) throw bad(value, 'control character');
  const out: string[] = [];
  for (const entry of addressparser(value, { flatten: true })) {
    let a = entry.address;
    if (a === '') {
      const name = entry.name.trim();
      if (name === '') continue;
      if (!BARE_LOCAL_RE.test(name)) throw bad(name, 'not an address');
      a = name;
    }
    out.push(normalizeAddress(a, { qualifyDomain: opts.qualifyDomain }));
  }
  return out;
}

/**
 * The addresses of one sendmail recipient argument. Like sendmail and
 * Postfix, an argument may be an address list (`"a@x, b@y"`,
 * `"Name <a@x>"`): an argument containing `,`, `<`, `(` or `"` is parsed with
 * {@link parseAddressList}; any other argument is one address, so that
 * `"a@x b@y"` is an error instead of silently losing `b@y`.
 *
 * @throws SmarthostError E_ADDRESS as {@link normalizeAddress} and {@link parseAddressList}.
 */
export function parseArgumentAddresses(arg: string, opts: AddressOptions): string[] {
  if (CONTROL_RE.test(arg)) throw bad(arg, 'control character');
  if (/[,<("]/.test(arg)) return parseAddressList(arg, opts);
  return [normalizeAddress(arg, { qualifyDomain: opts.qualifyDomain })];
}
