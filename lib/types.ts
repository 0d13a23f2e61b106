/**
 * Shared data types. No code lives here: every stage imports its vocabulary
 * from this file so that the stages only meet through plain data.
 */

/** How the names in a route are turned into addresses (Exim manualroute). */
export type Lookup = 'bydns' | 'byname';

/** Which address families are used, and in what order. */
export type FamilyPolicy = 'any' | 'ipv4_only' | 'ipv4_prefer';

/** One entry of a route_data host list. */
export interface HostSpec {
  /** Host name, or the IP address for a literal written as `[ip]`. */
  name: string;
  /** True when the entry was an IP literal (`[192.0.2.1]` or a bare address). */
  literal: boolean;
  /** Port from `host::port` / `[ip]:port`; undefined means the configured `port`. */
  port?: number;
  /** True for a `name/MX` entry: look up the MX records of `name`. */
  mx: boolean;
}

/** A parsed route_data line. */
export interface Route {
  hosts: HostSpec[];
  lookup: Lookup;
  family: FamilyPolicy;
  randomize: boolean;
  /** The host list as written (without the quotes around it, if any), for the trace. */
  hostText: string;
  /** The options as written, for the trace. */
  optionText: string;
}

/**
 * One parsed item of an Exim-style host list (hosts_require_tls,
 * tls_verify_cert_hostnames). Produced by `parseHostList` in lib/hostlist.ts;
 * `text` is the item as written, for traces ("matched \"*.example.com\"").
 */
export type HostPattern =
  | { kind: 'any'; negated: boolean; text: string }
  | { kind: 'empty'; negated: boolean; text: string }
  /** Exact host name, lower-cased, without a trailing dot. */
  | { kind: 'name'; negated: boolean; text: string; name: string }
  /** `*.example.com` / `*example.com`: the name ends with `suffix` (lower-cased). */
  | { kind: 'suffix'; negated: boolean; text: string; suffix: string }
  /** `^regex`, matched case-insensitively against the host name. */
  | { kind: 'regex'; negated: boolean; text: string; source: string }
  /** An IP address (prefix = full length) or CIDR network. */
  | { kind: 'net'; negated: boolean; text: string; address: string; prefix: number; family: 4 | 6 };

/** A DNS server to query. */
export interface NameServer {
  address: string;
  port: number;
}

/** The whole configuration, with defaults applied. Times are milliseconds. */
export interface Config {
  /** Where it came from (for messages): the path given to loadConfig (even when an optional file was missing), '(defaults)' from defaultConfig(). */
  file: string;
  route?: Route;
  port: number;
  heloData?: string;
  hostsRequireTls: HostPattern[];
  tlsVerifyCertificates: string; // 'system' or a PEM file path
  tlsVerifyCertHostnames: HostPattern[];
  dnsServers?: NameServer[];
  dnsTimeout: number;
  dnsRetries: number;
  commandTimeout: number;
  connectTimeout: number;
  qualifyDomain?: string;
}

/** One resolved address of a host. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
  /** TTL in seconds; 0 when unknown (byname lookups). */
  ttl: number;
}

/** One CNAME hop: `name` is an alias for `target`. */
export interface CnameHop {
  name: string;
  target: string;
  ttl: number;
}

/**
 * The result of looking up one host. `queried` is the name the route asked for
 * and the only name TLS verification ever uses; `canonical` is where the CNAME
 * chain ended (equal to `queried` when there was no CNAME).
 */
export interface Resolved {
  queried: string;
  canonical: string;
  chain: CnameHop[];
  addresses: ResolvedAddress[];
  port?: number;
  /** MX preference when the host came from an MX lookup; -1 otherwise (Exim's mx=-1). */
  mx: number;
}

/** The SMTP envelope. `sender` '' is the null sender `<>`. */
export interface Envelope {
  sender: string;
  recipients: string[];
}

/** Everything the sendmail command line asked for. */
export interface Invocation {
  recipients: string[];
  /** -t: take recipients from To/Cc/Bcc. */
  extractRecipients: boolean;
  /** -i / -oi: a lone '.' line is message data. */
  ignoreDots: boolean;
  /** -f / -r; undefined when not given, '' for the null sender. */
  sender?: string;
  /** -F full name. */
  fullName?: string;
  verbose: boolean;
  debug: boolean;
  configFile?: string;
  /** -b mode letter(s): 'm' (default), 'p', 's', ... */
  mode: string;
  /** -q given. */
  queueRun: boolean;
  /** -o options as given (without the leading 'o'). */
  options: string[];
  /** -N, -R, -V: kept for later DSN support. */
  dsnNotify?: string;
  dsnRet?: string;
  dsnEnvid?: string;
  /** --help given (sendmail's -h is the hop count). */
  help?: boolean;
  /** X of -dX (debug flags as given); -d alone leaves it undefined. */
  debugFlags?: string;
  /** X of -qX (interval or selector as given); -q alone leaves it undefined. */
  queueArg?: string;
  /** -B type (7BIT / 8BITMIME), as given. */
  bodyType?: string;
  /** Flags accepted for compatibility and ignored, as given (e.g. '-oem', '-B8BITMIME'), for -v. */
  ignored?: string[];
}

/** Where a host attempt was when it ended (printed by name in traces). */
export type Stage = 'dns' | 'connect' | 'banner' | 'ehlo' | 'starttls' | 'mail' | 'rcpt' | 'data' | 'done';

/** One attempt at one address of one host. */
export interface Attempt {
  queried: string;
  canonical: string;
  address: string;
  port: number;
  stage: Stage;
  result: 'delivered' | 'deferred' | 'failed';
  /** The server's reply or the local reason. */
  reason: string;
  tls?: { protocol: string; cipher: string; verified: boolean };
}

/** Per-recipient outcome of a delivery run. */
export interface RecipientResult {
  recipient: string;
  result: 'delivered' | 'deferred' | 'failed';
  reason: string;
  host?: string;
}

export interface Outcome {
  result: 'delivered' | 'deferred' | 'failed';
  recipients: RecipientResult[];
  attempts: Attempt[];
}
