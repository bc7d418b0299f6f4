// The one redaction every output path goes through: stdout (table, JSON, YAML, SARIF,
// codequality, explain, snapshot), stderr (warnings, --verbose, error messages), and the strings
// of objects a snapshot writes. It removes two things:
//
// - the credentials in use this run (bearer token, client key, basic-auth password, what an exec
//   credential plugin printed), registered by the collector as soon as it has them: a server or
//   proxy that repeats the Authorization header in a 401/403 message cannot leak them;
// - known secret shapes, whoever wrote them: PEM private keys and `ARGO TUNNEL TOKEN` blocks,
//   `Bearer`/`Basic` header values, base64 JSON (cloudflared tunnel tokens, JWTs), URL userinfo,
//   and the value of any `NAME=value`, `--flag value`, `key: value` whose name says it is secret
//   (see isSecretName).
//
// The text may be JSON or YAML already serialised: replacements never remove or add a quote, a
// backslash or a line break, so a document stays a valid document of its kind.

export const REDACTED = '<redacted by tunnelmesh>';

/** Words that make a name secret (split on `_`, `-`, `.`, camelCase). */
const SECRET_WORDS = new Set([
  'token', 'tokens', 'secret', 'secrets', 'password', 'passwords', 'passwd', 'passphrase', 'pwd', 'pass',
  'apikey', 'auth', 'authorization', 'dsn', 'cookie', 'credential', 'cred', 'privatekey', 'signature', 'salt',
]);
/** `key` alone is everywhere (label selectors' `key: app`); after one of these it is a secret (API_KEY, privateKey). */
const KEY_QUALIFIERS = new Set(['api', 'private', 'access', 'secret', 'signing', 'encryption', 'master', 'client', 'ssh', 'account', 'license', 'service', 'tls', 'shared', 'session']);
/** A name ending in one of these points at a secret (a file, a Secret's name, a reference) rather than holding it. */
const POINTER_WORDS = new Set(['file', 'files', 'path', 'dir', 'directory', 'name', 'names', 'ref', 'id', 'url', 'uri', 'endpoint', 'mount', 'type', 'mode']);
/** cloudflared's own secret-carrying names that the word rule alone would miss. */
const SECRET_NAMES = new Set(['credentials-contents', 'tunnel_cred_contents', 'tunnelsecret', 'tunnel-secret']);

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * Does this environment variable, flag or config key hold a secret? A generic rule, since
 * applications name theirs freely: any word of it is one of SECRET_WORDS (TUNNEL_TOKEN,
 * DB_PASSWORD, AUTH_HEADER, SENTRY_DSN, apiKey, --token), unless its last word says it only
 * points at one (TOKEN_FILE, secretName, PASSWORD_PATH).
 */
export function isSecretName(name: string): boolean {
  const lower = name.toLowerCase().replace(/^-+/, '');
  if (SECRET_NAMES.has(lower)) return true;
  const w = words(name);
  if (w.length === 0) return false;
  if (POINTER_WORDS.has(w[w.length - 1] as string)) return false;
  return w.some((x, i) => SECRET_WORDS.has(x) || (x === 'key' && i > 0 && KEY_QUALIFIERS.has(w[i - 1] as string)));
}

/**
 * Values that are not secrets whatever their name says: booleans, nulls, placeholders, file paths
 * (`privateKey: /etc/certs/key.pem`), an Authorization header's scheme (its credential is a shape of its own).
 */
function isHarmlessValue(value: string): boolean {
  const bare = value.replace(/^\\?["']|\\?["']$/g, '');
  // Placeholders in our own hints (`--token=…`, `<new token>`) name a value; they are not one.
  if (/^(…|\.\.\.|<[^<>]*>)$/.test(bare)) return true;
  return /^(true|false|yes|no|null|~|Bearer|Basic|)$/i.test(bare) || /^\/[\w.-]+(\/[\w.-]+)+$/.test(bare) || bare.includes(REDACTED);
}

// ---- credentials in use ---------------------------------------------------------------

/** Shorter values are not registered: redacting them would mangle ordinary words. */
const MIN_SECRET_LENGTH = 8;
const registered = new Set<string>();

/**
 * Adds a credential of this run (and its base64 form, as kubeconfigs and Basic headers carry
 * them; for a PEM key, each line of its body) to what every output is scrubbed of.
 */
export function registerSecret(value: string | Uint8Array | null | undefined): void {
  if (value === null || value === undefined) return;
  const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  const add = (s: string): void => {
    const t = s.trim();
    if (t.length >= MIN_SECRET_LENGTH) registered.add(t);
  };
  add(text);
  add(Buffer.from(text).toString('base64'));
  for (const line of text.split(/\r?\n/)) if (!line.startsWith('-----')) add(line);
}

// ---- known shapes ---------------------------------------------------------------------

/** What a bare secret value may consist of: never a quote, backslash, bracket, separator or space. */
const BARE = `[^\\s"'\\\\,;{}\\[\\]()<>|&]+`;
/** Value forms: a JSON-escaped quoted string (inside JSON text), a quoted string, a bare word. */
const VALUE = new RegExp(`\\\\"(?:[^"\\\\\\n]|\\\\[^"])*\\\\"|"(?:[^"\\\\\\n]|\\\\.)*"|'[^'\\n]*'|${BARE}`, 'y');

/** PEM private keys and cloudflared's login certificate token block: every line of the body goes. */
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY|ARGO TUNNEL TOKEN)-----(?:[A-Za-z0-9+/=:, \t\r\n-]|\\[nrt])*?(?:-----END \1-----|(?=[^A-Za-z0-9+/=:, \t\r\n\\-])|$)/g;
const AUTH_HEADER = /\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/=-]{8,})/g;
/** Base64 JSON (`{"...`): cloudflared tunnel tokens (`{"a":…,"t":…,"s":…}`) and JWTs. */
const BASE64_JSON = /eyJ[A-Za-z0-9_\-+/=.]{16,}/g;
/** `scheme://user:password@`: the password goes; a long user alone (a token as user, a Sentry key) goes too. */
const USERINFO_PASSWORD = /\b([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^\s:@/"'\\<>]*):([^\s@/"'\\<>]+)@/g;
const USERINFO_TOKEN = /\b([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([A-Za-z0-9_\-.~%]{16,})@/g;
/**
 * Where a named value starts: `NAME=`, `--flag=` / `--flag ` / `-flag `, `key: ` / `"key": `,
 * also right after a `\n` escape (YAML or a script inside a JSON string). Only the name is
 * consumed, so that a value that is not redacted is scanned on (a JSON string holding
 * `\"token\": \"…\"`).
 */
const NAMED = [
  /(?:^|(?<=[^A-Za-z0-9_\-.])|(?<=\\[nrt]))([A-Za-z_][A-Za-z0-9_]*)=/g,
  /(?:^|(?<=[\s"'[,])|(?<=\\[nrt]))(--?[A-Za-z][A-Za-z0-9-]*)(?:=|[ \t]+)(?!-)/g,
  /(?:^|(?<=[\s{,["':])|(?<=\\[nrt]))(?:\\?["'])?([A-Za-z_][A-Za-z0-9_.-]*)(?:\\?["'])?[ \t]*:[ \t]*/g,
];

/** Replaces the value that starts at each secret name's end. */
function redactNamedValues(text: string, pattern: RegExp): string {
  let out = '';
  let from = 0;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    const end = m.index + m[0].length;
    if (m[0].length === 0) pattern.lastIndex++;
    if (!isSecretName(m[1] as string)) continue;
    VALUE.lastIndex = end;
    const v = VALUE.exec(text);
    if (!v || isHarmlessValue(v[0])) continue;
    out += text.slice(from, end) + replaceValue(v[0]);
    from = end + v[0].length;
    pattern.lastIndex = from;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** A quoted value keeps its quotes; only what is inside is replaced. */
function replaceValue(value: string): string {
  if (value.startsWith('\\"')) return `\\"${REDACTED}\\"`;
  if (value.startsWith('"')) return `"${REDACTED}"`;
  if (value.startsWith("'")) return `'${REDACTED}'`;
  return REDACTED;
}

/** The lines of a YAML block scalar after `key: |` (more indented than the key's line). */
function redactBlockScalars(text: string): string {
  if (!/:[ \t]*[|>]/.test(text)) return text;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([ \t]*)(?:-[ \t]+)?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?[ \t]*:[ \t]*[|>][-+0-9]*[ \t]*(?:#.*)?\r?$/.exec(lines[i] as string);
    if (!m || !isSecretName(m[2] as string)) continue;
    const indent = (m[1] as string).length;
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j] as string;
      if (line.trim() === '') continue;
      const lead = /^[ \t]*/.exec(line)?.[0].length ?? 0;
      if (lead <= indent) break;
      lines[j] = `${line.slice(0, lead)}${REDACTED}`;
      i = j;
    }
  }
  return lines.join('\n');
}

/** Cheap look for anything a pattern could match, so that most strings cost one scan. */
const MAY_HOLD_SECRET = /-----BEGIN|Bearer|Basic|eyJ|:\/\/|=|:|-[a-zA-Z]/i;

/** The text with every registered credential and every known secret shape replaced by REDACTED. */
export function redactText(text: string): string {
  let out = text;
  for (const secret of registered) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  if (!MAY_HOLD_SECRET.test(out)) return out;
  out = out.replace(PEM_BLOCK, (_m, label: string) => `-----BEGIN ${label}----- ${REDACTED} -----END ${label}-----`);
  // Words of prose ("Basic authentication") are all lower-case letters; credentials are not.
  out = out.replace(AUTH_HEADER, (m, scheme: string, space: string, value: string) => (/^[a-z]+$/.test(value) ? m : `${scheme}${space}${REDACTED}`));
  out = out.replace(BASE64_JSON, REDACTED);
  out = out.replace(USERINFO_PASSWORD, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
  out = out.replace(USERINFO_TOKEN, (_m, scheme: string) => `${scheme}${REDACTED}@`);
  for (const pattern of NAMED) out = redactNamedValues(out, pattern);
  return redactBlockScalars(out);
}
