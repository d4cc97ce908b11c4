/**
 * The TLS layer of a diagnosis: what `openssl s_client` shows (protocol, cipher, the chain with its dates and
 * names), and the verification's result even when it fails, naming the certificate at fault; and a plain-text
 * URL pointed at a TLS port. Adds its findings to the Report and returns whether the handshake succeeded.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { abortable } from '../basics/abort.ts';
import { builtin } from '../basics/builtin.ts';
import { dial, hostPort, isIpLiteral } from './dial.ts';
import { NotReady } from '../basics/errors.ts';
import { scrubText } from '../basics/redact.ts';
import { tlsFailure } from './tls-errors.ts';
import { ms, type Report } from './report.ts';
import { classify } from './classify.ts';

/** How a TLS target wants the server verified. */
export interface TlsProbe {
  /** The name in the URL: SNI, and the name the certificate must list. */
  readonly host: string;
  /** The address to connect to. */
  readonly address: string;
  readonly port: number;
  /** The TLS options the check uses (its secure context, CA and client certificate). */
  readonly options: tls.ConnectionOptions;
  /** What the check verifies: the chain and host name, the chain only, or nothing (sslmode=require); `reason` says why it is less. */
  readonly verify: 'full' | 'chain' | 'none';
  readonly reason?: string;
  /** Before the handshake, on the open socket (PostgreSQL's SSLRequest); rejects with NotReady when the server refuses TLS. */
  readonly startTls?: (socket: net.Socket, signal: AbortSignal) => Promise<void>;
  /** The URL form for a plain port (redis://, http://, sslmode=disable): for the hint. */
  readonly plainHint: string;
  /** The CAs the user gave (PEM), to say in a hint which ones are trusted when the chain does not verify. */
  readonly trustedPem?: string | undefined;
  /** Where those CAs are given, for hints: `--ca-file` by default, `sslrootcert` for a postgres:// URL. */
  readonly caInput?: string;
}

const SHORT_NAMES: Record<string, string> = { commonName: 'CN', organizationName: 'O', organizationalUnitName: 'OU', countryName: 'C' };

/** A certificate's subject or issuer, as the server sent it (so scrubbed). */
function dn(name: Record<string, unknown> | undefined): string {
  if (!name) return '(none)';
  const parts = Object.entries(name).map(([k, v]) => `${SHORT_NAMES[k] ?? k}=${Array.isArray(v) ? v.join('+') : String(v)}`);
  return parts.length > 0 ? scrubText(parts.join(', ')) : '(empty)';
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** One certificate of the chain the handshake showed, with where it stands. */
interface ChainCert {
  readonly cert: tls.DetailedPeerCertificate;
  /** 1 for the server's own, 2 for its issuer, ... */
  readonly position: number;
  /** Its issuer is itself: a root. */
  readonly selfSigned: boolean;
  readonly from: Date;
  readonly to: Date;
}

/** The server's certificate and the CAs above it as far as the handshake knew them, each once. */
function chainOf(leaf: tls.DetailedPeerCertificate): ChainCert[] {
  const out: ChainCert[] = [];
  const seen = new Set<string>();
  for (let c: tls.DetailedPeerCertificate | undefined = leaf; c && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    const selfSigned = c.issuerCertificate !== undefined && c.issuerCertificate.fingerprint256 === c.fingerprint256;
    out.push({ cert: c, position: out.length + 1, selfSigned, from: new Date(c.valid_from), to: new Date(c.valid_to) });
  }
  return out;
}

function day(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'an unreadable date' : date.toISOString().slice(0, 10);
}

/** How a certificate of the chain is named in a hint: the server's own, or which CA it is. */
function which(c: ChainCert, chain: readonly ChainCert[]): string {
  if (c.position === 1) return `the server's certificate ${dn(c.cert.subject as never)}`;
  const kind = c.selfSigned ? 'root CA' : 'intermediate CA';
  return `the ${kind} ${dn(c.cert.subject as never)} (certificate ${c.position} of ${chain.length} in the chain)`;
}

/** The first of `certs` (of `chain`) out of its dates, and how, in words; undefined when all are in them. */
function outOfDates(certs: readonly ChainCert[], chain: readonly ChainCert[], now: number): { at: ChainCert; words: string } | undefined {
  for (const c of certs) {
    if (c.to.getTime() < now) return { at: c, words: `${which(c, chain)} expired on ${day(c.to)} (${Math.floor((now - c.to.getTime()) / DAY_MS)} days ago)` };
    if (c.from.getTime() > now) return { at: c, words: `${which(c, chain)} is valid only from ${day(c.from)}: check the clocks` };
  }
  return undefined;
}

/** The subjects of the certificates in a PEM text (the CAs given with --ca-file or sslrootcert), for hints. */
function subjectsOf(pem: string | undefined): string[] {
  if (pem === undefined) return [];
  const { X509Certificate } = builtin('node:crypto');
  const out: string[] = [];
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)) {
    try {
      out.push(new X509Certificate(m[0]).subject.split('\n').join(', '));
    } catch {
      // read at start already (files.ts): nothing unreadable gets here
    }
  }
  return out;
}

/**
 * Why the chain did not verify, naming the certificate that fails: an issuer the server did not send (a
 * missing intermediate), a root that is not trusted, a certificate out of its dates.
 */
function chainHint(code: string, chain: readonly ChainCert[], probe: TlsProbe, peer: string): string {
  const leaf = chain[0] as ChainCert;
  const top = chain[chain.length - 1] as ChainCert;
  const caFlag = probe.caInput ?? '--ca-file';
  switch (code) {
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY': {
      const issuer = dn(top.cert.issuer as never);
      const given = subjectsOf(probe.trustedPem);
      const trusted = given.length > 0 ? ` (${caFlag} holds ${given.slice(0, 3).join('; ')}${given.length > 3 ? '; ...' : ''})` : '';
      if (chain.length === 1) {
        return `the server sent only its own certificate, issued by ${issuer}, which is neither trusted here${trusted} nor sent by the server. If ${issuer} is an intermediate CA, the server must send it after its own certificate (its tls.crt holds the certificate, then the intermediates; the root alone goes in ${caFlag}); if it is a root CA, give it with ${caFlag}`;
      }
      return `the chain the server sent ends at ${which(top, chain)}, issued by ${issuer}, which is not trusted here${trusted}: give ${issuer} with ${caFlag}; if it is an intermediate itself, the server must send it too`;
    }
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `the chain the server sent ends at ${which(top, chain)}, which is not trusted here: give it with ${caFlag}`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `the server's certificate ${dn(leaf.cert.subject as never)} is self-signed and not trusted: give it with ${caFlag}, or have it issued by a CA`;
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID': {
      const bad = outOfDates(chain, chain, Date.now());
      if (bad) return `${bad.words}: ${bad.at.position === 1 ? 'renew it' : 'renew that CA certificate, and send the new one with the server\'s certificate'}`;
      return classify(Object.assign(new Error(code), { code }), 'tls', peer).reason;
    }
    default:
      return classify(Object.assign(new Error(code), { code }), 'tls', peer).reason;
  }
}

/** Reads what the handshake showed into the findings; returns whether the check's verification would pass. */
function readSession(r: Report, socket: tls.TLSSocket, probe: TlsProbe, handshakeMs: number): boolean {
  const cipher = socket.getCipher();
  r.ok('tls', 'handshake', `${socket.getProtocol() ?? 'unknown'}, ${cipher.name}, in ${ms(handshakeMs)}`, handshakeMs);
  const cert = socket.getPeerCertificate(true);
  if (!cert || Object.keys(cert).length === 0) {
    r.fail('tls', 'certificate', 'none sent', 'the server sent no certificate');
    return false;
  }
  const now = Date.now();
  const from = new Date(cert.valid_from);
  const to = new Date(cert.valid_to);
  const left = (to.getTime() - now) / DAY_MS;
  const sans = cert.subjectaltname ? scrubText(cert.subjectaltname) : 'no SANs';
  const value = `${dn(cert.subject as never)}; ${sans}; valid ${from.toISOString().slice(0, 10)} to ${to.toISOString().slice(0, 10)} (${left < 0 ? 'expired' : `${Math.floor(left)} days left`})`;
  // Where nothing is verified (sslmode=require), a certificate out of its dates is not refused: a warning.
  const datesFail = probe.verify === 'none' ? r.warn.bind(r) : r.fail.bind(r);
  const unchecked = probe.verify === 'none' ? ` (not refused: ${probe.reason ?? 'verification is off'})` : '';
  if (left < 0) datesFail('tls', 'certificate', value, `the certificate has expired${unchecked}: renew it (cert-manager, or the Secret the chart mounts)`);
  else if (from.getTime() > now) datesFail('tls', 'certificate', value, `the certificate is not valid yet${unchecked}: check the clocks`);
  else if (left < 14) r.warn('tls', 'certificate', value, 'the certificate expires in under 14 days: renew it before it does');
  else r.ok('tls', 'certificate', value);

  // The CAs above it: each named once (a self-signed root names itself as its issuer), and judged by its dates too.
  const chain = chainOf(cert);
  const names: string[] = [];
  for (const c of chain) if (c.position === 1 || !c.selfSigned) names.push(dn(c.cert.issuer as never));
  const chainText = names.map((c, i) => (i === 0 ? `issued by ${c}` : `then ${c}`)).join('; ');
  const cas = chain.slice(1);
  const caOut = outOfDates(cas, chain, now);
  const caSoon = cas.find((c) => (c.to.getTime() - now) / DAY_MS < 14);
  if (caOut) {
    datesFail('tls', 'issuer chain', `${chainText} (${dn(caOut.at.cert.subject as never)} ${caOut.at.to.getTime() < now ? `expired ${day(caOut.at.to)}` : `valid from ${day(caOut.at.from)}`})`, `${caOut.words}${unchecked}: renew that CA certificate, and send the new one with the server's certificate`);
  } else if (caSoon) {
    r.warn('tls', 'issuer chain', chainText, `${which(caSoon, chain)} expires on ${day(caSoon.to)}, in under 14 days: renew it before it does`);
  } else r.ok('tls', 'issuer chain', chainText);

  const rawError = socket.authorized ? undefined : String(socket.authorizationError ?? 'UNSPECIFIED');
  const peer = hostPort(probe.host, probe.port);
  // The verifier's code as harbor-wait prints it (its rarer ones are CERT_INVALID).
  const chainError = rawError === undefined ? undefined : (tlsFailure(rawError, rawError, peer)?.code ?? 'CERT_INVALID');
  const hostError = builtin('node:tls').checkServerIdentity(probe.host, cert);
  const off = probe.options.rejectUnauthorized === false && probe.verify !== 'none';
  const result = chainError
    ? `chain not verified: ${chainError}`
    : hostError
      ? `chain verified; host name ${probe.host} not in the certificate`
      : `chain verified; host name ${probe.host} matches`;
  const needsHost = probe.verify === 'full';
  const failing = chainError !== undefined || (needsHost && hostError !== undefined);
  if (probe.verify === 'none') {
    r.ok('tls', 'verification', `${result} (not checked: ${probe.reason ?? 'verification is off'})`);
    return true;
  }
  if (!failing) {
    const enforced = off ? ` (not enforced: ${probe.reason ?? 'verification is off'})` : '';
    r.ok('tls', 'verification', probe.verify === 'chain' ? `${result} (host name not checked: ${probe.reason ?? 'chain only'})` : `${result}${enforced}`);
    return true;
  }
  const why = rawError !== undefined ? chainHint(rawError, chain, probe, peer) : `the certificate lists ${sans}, not ${probe.host}: connect by a name it lists, or reissue it with this name`;
  if (off) {
    r.warn('tls', 'verification', `${result} (ignored: ${probe.reason ?? 'verification is off'})`, `${why}; with verification off, any server can pose as this one`);
    return true;
  }
  r.fail('tls', 'verification', result, why);
  return false;
}

/** True for a TLS handshake error that means the port answered in plain text (classify names it NOT_TLS). */
function plainAnswer(err: NotReady): boolean {
  return err.code === 'NOT_TLS' || err.code === 'ECONNRESET';
}

/**
 * The TLS layer: one handshake with verification deferred, so that the certificate and the verification
 * result are shown even when verification fails. Returns whether the check itself would get past TLS
 * (undefined when the handshake failed; blocks `tls`).
 */
export async function diagnoseTls(r: Report, probe: TlsProbe): Promise<boolean | undefined> {
  let socket: tls.TLSSocket | undefined;
  let raw: net.Socket | undefined;
  const peer = hostPort(probe.host, probe.port);
  const step = await r.step(async (signal, progress) => {
    const dialed = await dial({ host: probe.address, port: probe.port, lookup: r.ctx.lookup, signal, progress });
    raw = dialed.socket;
    progress.stage = 'tls';
    if (probe.startTls) await probe.startTls(raw, signal);
    const secure = builtin('node:tls').connect({
      ...probe.options,
      socket: raw,
      host: probe.host,
      ...(isIpLiteral(probe.host) ? {} : { servername: probe.host }),
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    secure.on('error', () => {});
    socket = secure;
    await abortable(new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
      secure.once('close', () => reject(Object.assign(new Error(`${peer} closed the connection during the TLS handshake`), { code: 'ECONNRESET' })));
    }), signal);
  }, 'tls');
  try {
    if (!step.ok) {
      const err = step.error;
      if (err.code === 'SSL_REFUSED') r.fail('tls', 'handshake', 'refused by the server', err.reason, step.ms);
      else if (err.stage === 'timeout' || err.code.endsWith('TIMEOUT')) {
        r.fail('tls', 'handshake', `no answer after ${ms(step.ms)}`, `${err.reason}; a port that speaks plain text waits for a request and never answers a handshake: use ${probe.plainHint}`, step.ms);
      } else if (plainAnswer(err)) {
        r.fail('tls', 'handshake', `${err.code} after ${ms(step.ms)}`, `${peer} did not answer in TLS: it speaks plain text there; use ${probe.plainHint}`, step.ms);
      } else r.fail('tls', 'handshake', `${err.code} after ${ms(step.ms)}`, err.reason, step.ms);
      r.block('tls', 'the TLS handshake failed');
      return undefined;
    }
    const passes = readSession(r, socket as unknown as tls.TLSSocket, probe, step.ms);
    if (!passes) r.block('tls', 'the certificate is not accepted');
    return passes;
  } finally {
    (socket as tls.TLSSocket | undefined)?.destroy();
    (raw as net.Socket | undefined)?.destroy();
  }
}

/**
 * Whether a port a plain URL points at answers a TLS handshake: for a plain connection that timed out or
 * met something it could not read. Adds a `tls` finding when it does.
 */
export async function plainOnTls(r: Report, host: string, port: number, tlsUrl: string): Promise<boolean> {
  const step = await r.step(async (signal, progress) => {
    const dialed = await dial({ host, port, lookup: r.ctx.lookup, signal, progress });
    progress.stage = 'tls';
    const secure = builtin('node:tls').connect({ socket: dialed.socket, rejectUnauthorized: false, ...(isIpLiteral(host) ? {} : { servername: host }) });
    secure.on('error', () => {});
    try {
      await abortable(new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', resolve);
        secure.once('error', reject);
      }), signal);
      return secure.getProtocol() ?? 'TLS';
    } finally {
      secure.destroy();
      dialed.socket.destroy();
    }
  }, 'tls');
  if (!step.ok) return false;
  r.fail('tls', 'plain text on a TLS port', `${hostPort(host, port)} answered a TLS handshake (${step.value})`, `the URL speaks plain text to a TLS port, which waits or closes: use ${tlsUrl}`);
  return true;
}
