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
  /** The default file did not exist, so these are the built-in defaults (noRouteError says how to start). */
  missing?: true;
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
  // -- addressing (issue 4; lib/submit/aliases*.ts, alias-expand.ts) --
  /** system_aliases_file: undefined → /etc/aliases when it exists; '' → no aliases; else that file. */
  systemAliasesFile?: string;
  // -- queue: retries and the main log (issue 3; lib/route/retry-rules.ts, lib/report/log.ts) --
  /** retry_rules: Exim retry parameters; empty means no retries (a temporary failure is final). */
  retryRules: RetryRule[];
  /** delay_warning: Exim's time list (ms, increasing) after which the sender of a message still deferred is warned (default 24h); empty: never. */
  delayWarning: number[];
  /** log_file_path: the main log (Exim's mainlog format). */
  logFilePath: string;
  /** spool_directory: where queued messages wait (lib/store/spool.ts). */
  spoolDirectory: string;
  /** queue_deferred: spool a message that could not be delivered now (default true); false exits 75 instead. */
  queueDeferred: boolean;
  /** delivery_mode: background (default; spool, then a detached deliverer), interactive (deliver before exiting), queue (spool only). */
  deliveryMode: DeliveryMode;
  /** check_spool_space (bytes, default 10M) and check_spool_inodes (default 100): below these, a submission is not spooled (Exim's names; lib/store/space.ts). 0: no check. */
  checkSpoolSpace: number;
  checkSpoolInodes: number;
  // -- who may set the sender (issue 9, point 9; lib/submit/sender-policy.ts), Exim's options and semantics --
  /** trusted_users: login names whose -f and Sender: are taken as given (root always is). */
  trustedUsers: string[];
  /** untrusted_set_sender: the envelope senders other users may set with -f (`*`: any; default `*`, as Debian's Exim). */
  untrustedSetSender: string[];
  /** local_from_check: add `Sender: <login>@<qualify_domain>` to an untrusted user's message whose From: is not theirs (default true). */
  localFromCheck: boolean;
  /** local_sender_retain: keep a Sender: header an untrusted user wrote (default false: it is removed). */
  localSenderRetain: boolean;
  // -- authentication, TLS client options, total deadline (issue 4; lib/route/config-security.ts) --
  /** auth_username: the global user name (hosts without an auth_credentials_file entry). */
  authUsername?: string;
  /** auth_password: the password written in the configuration file itself (mode checked by loadConfig). */
  authPassword?: string;
  /** auth_password_file: first line of this file is the password. */
  authPasswordFile?: string;
  /** auth_password_command: a shell command whose first output line is the password. */
  authPasswordCommand?: string;
  /** auth_oauth2_command: a shell command whose first output line is an OAuth2 access token (XOAUTH2). */
  authOauth2Command?: string;
  /** auth_credentials_file: `queried-host:user:password` lines. */
  authCredentialsFile?: string;
  /** auth_mechanisms: the mechanisms allowed, in preference order; undefined means the built-in order. */
  authMechanisms?: AuthMechanism[];
  /** hosts_auth_cleartext: hosts that may be sent credentials without TLS (default: none). */
  hostsAuthCleartext: HostPattern[];
  /** protocol: `smtp` (STARTTLS) or `smtps` (implicit TLS, RFC 8314; default port 465). */
  protocol: 'smtp' | 'smtps';
  /** tls_certificate / tls_privatekey: client certificate and key (PEM file paths). */
  tlsCertificate?: string;
  tlsPrivatekey?: string;
  /** tls_require_ciphers: an OpenSSL cipher list. */
  tlsRequireCiphers?: string;
  /** tls_min_version: the lowest TLS version accepted. */
  tlsMinVersion: TlsVersion;
  /** tls_pin_sha256: SHA-256 digests (lower-case hex) of acceptable server SPKIs; empty means no pinning. */
  tlsPinSha256: string[];
  /** delivery_timeout: the deadline for the whole run (DNS and every attempt), ms. */
  deliveryTimeout: number;
}

/** SASL mechanisms send-smarthost can use (RFC 4616, RFC 4954 LOGIN, RFC 2195, Google XOAUTH2). */
export type AuthMechanism = 'PLAIN' | 'LOGIN' | 'CRAM-MD5' | 'XOAUTH2';

/** TLS protocol versions, as Node names them. */
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/**
 * The credentials for one host (chosen by the queried name). The secrets are
 * fetched lazily, only when the server is about to be sent them, and never
 * appear in a trace, a log line, an error message or a process argument.
 */
export interface HostAuth {
  username: string;
  /** Where the credentials came from, for messages (`auth_credentials_file /x:3`, `auth_username`). */
  source: string;
  /** Fetch the password (may run auth_password_command); absent when only a token is configured. */
  password?: () => Promise<string>;
  /** Fetch an OAuth2 access token; `fresh` asks for a new one after a rejection. */
  token?: (fresh: boolean) => Promise<string>;
  /** Allowed mechanisms in preference order; undefined means the built-in order. */
  mechanisms?: AuthMechanism[];
  /** hosts_auth_cleartext matched: credentials may be sent without TLS. */
  allowCleartext: boolean;
}

/**
 * One Exim retry rule (spec "Retry configuration", "Retry rule parameters").
 * `cutoff` counts from the first failure; the rule applies while the message
 * has been failing for at most `cutoff` ms. Times in ms.
 */
export type RetryRule =
  /** `F,<cutoff>,<interval>`: a fixed interval. */
  | { kind: 'F'; cutoff: number; interval: number; text: string }
  /** `G,<cutoff>,<interval>,<factor>`: the interval starts at `interval` and is multiplied by `factor` at every retry. */
  | { kind: 'G'; cutoff: number; interval: number; factor: number; text: string };

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
  /**
   * The address records, and every CNAME on the way to them, came back
   * DNSSEC-authenticated from the resolver (AD; asked only when DANE may
   * apply): the condition for looking up TLSA records (RFC 7672 §2.2).
   */
  secure?: true;
}

/** The SMTP envelope. `sender` '' is the null sender `<>`. */
/**
 * What -M… asks of queued messages: deliver (-M), remove (-Mrm), freeze
 * (-Mf), thaw (-Mt), print the header section, body or main-log lines of
 * one (-Mvh, -Mvb, -Mvl), or deliver drop files (--deliver-drop, the -odb child).
 */
export type MessageAction = 'deliver' | 'remove' | 'freeze' | 'thaw' | 'show-header' | 'show-body' | 'show-log' | 'drop';

export interface Envelope {
  sender: string;
  recipients: string[];
  /** For recipients that aliases generated: the address the submitter gave (Exim's top-level address, listed by -bp). */
  parents?: Record<string, string>;
  /** DSN request (-N, -R, -V; RFC 3461), sent only to servers that offer DSN. */
  dsn?: DsnRequest;
}

/** RFC 3461 parameters: NOTIFY on every RCPT, RET and ENVID on MAIL. */
export interface DsnRequest {
  /** `NEVER`, or a comma list of `SUCCESS`, `FAILURE`, `DELAY` (upper-case). */
  notify?: string;
  ret?: 'HDRS' | 'FULL';
  /** Printable ASCII, at most 100 characters (RFC 3461 §4.4); xtext-encoded on the wire. */
  envid?: string;
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
  /** X of -dX (debug flags as given); -d alone leaves it undefined. */
  debugFlags?: string;
  /** X of -qX (interval or selector as given); -q alone leaves it undefined. */
  queueArg?: string;
  /** -B type (7BIT / 8BITMIME), as given. */
  bodyType?: string;
  /** Flags accepted for compatibility and ignored, as given (e.g. '-oem', '-B8BITMIME'), for -v. */
  ignored?: string[];
  // -- queue (issue 3; lib/queue/) --
  /** -odq: queue only, no delivery attempt now. */
  queueOnly?: boolean;
  /** The last -odX that names a mode (-odb, -odi/-odf, -odq/-odd/-odqs); undefined: delivery_mode decides. */
  deliveryMode?: DeliveryMode;
  /** --no-queue: never spool; a temporary failure exits 75 (as queue_deferred = false). */
  noQueue?: boolean;
  /** -qf / -qff: a queue run that ignores retry times. */
  queueForce?: boolean;
  /** -M, -Mrm, -Mf, -Mt, -Mvh, -Mvb, -Mvl, --deliver-drop: act on the messages whose ids are in `recipients` (see MessageAction). */
  messageAction?: MessageAction;
  /** --init-spool: create the spool directories with their modes. */
  initSpool?: boolean;
  /** Error mode of -oeX / -eX (last one wins): p print (default), m mail, e mail and exit 0, q quiet, w write. */
  errorMode?: 'p' | 'm' | 'e' | 'q' | 'w';
  /** -O name=value with a configuration option's name, in order (lib/route/config.ts applies them over the file). */
  configOverrides?: ConfigOverride[];
}

/** One `-O name[=value]` naming a configuration option (a line of the file given on the command line). */
export interface ConfigOverride {
  name: string;
  /** Absent for `-O name` (a boolean such as `-O no_queue_deferred`). */
  value?: string;
}

/** sendmail's DeliveryMode (Exim's -odX): b background, i interactive, q queue only. */
export type DeliveryMode = 'b' | 'i' | 'q';

/** Where a host attempt was when it ended (printed by name in traces). */
export type Stage = 'dns' | 'connect' | 'banner' | 'ehlo' | 'starttls' | 'auth' | 'mail' | 'rcpt' | 'data' | 'done';

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
