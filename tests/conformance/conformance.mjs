#!/usr/bin/env node
// A second implementation of the exchange protocol, written from docs/protocol.md alone: it rebuilds
// the canonical encoding of every golden example from the example's JSON (never from the stored
// bytes), compares it with the stored bytes and their SM3 digest, and verifies the SM2 signature.
//
//   node conformance.mjs [--examples DIR]   check every example in DIR (docs/protocol-examples)
//   node conformance.mjs --encode FILE      print the canonical encoding of any JSON value in FILE
//
// Exit status 0 when everything conforms, 1 otherwise (each failure is printed).
//
// JSON.parse cannot be used: it reads 9007199254740993 as 9007199254740992 and cannot tell 1.0 from
// 1. lossless-json hands each number over as its text, which is read here as the protocol says: an
// integer (BigInt) when it has no fraction and no exponent, else an IEEE 754 double.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'lossless-json';
import { sm2, sm3 } from 'sm-crypto-v2';

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_EXAMPLES = resolve(HERE, '..', '..', 'docs', 'protocol-examples');

const MAX_INT_DIGITS = 4300;
const FLOAT_LIMIT = 1e16;
const INTEGER = /^-?(0|[1-9][0-9]*)$/;
const CREATED_AT = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?\+00:00$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TEXT_FIELDS = ['type', 'from_node', 'to_node', 'created_at', 'case_no', 'message_id', 'correlation_id',
  'user', 'represented_party', 'key_id', 'signature'];
// Every field but the signature is signed; these may be left out and then count as "".
const DEFAULT_EMPTY = ['case_no', 'user', 'represented_party', 'key_id'];

// GB/T 32918.5-2017 Annex A: the published key, message and signature (default user id).
const ANNEX_A = {
  x: '09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020',
  y: 'ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13',
  message: 'message digest',
  r: 'f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3',
  s: 'b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa',
};
// DER SubjectPublicKeyInfo of an SM2 key up to the key's 65 bytes: id-ecPublicKey, curve sm2p256v1.
const SPKI_PREFIX = '3059301306072a8648ce3d020106082a811ccf5501822d034200';

class Refused extends Error {}

class Float {
  constructor(value) {
    this.value = value;
  }
}

function readJson(text) {
  return parse(text, null, (token) => (INTEGER.test(token) ? BigInt(token) : new Float(Number(token))));
}

// ------------------------------------------------------------------ the canonical encoding

function encode(value, path = '$') {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'bigint') return encodeInteger(value, path);
  if (value instanceof Float) return encodeFloat(value.value, path);
  if (typeof value === 'string') return encodeString(value, path);
  if (Array.isArray(value)) return `[${value.map((item, i) => encode(item, `${path}[${i}]`)).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort(byCodePoint);
    return `{${keys.map((k) => `${encodeString(k, path)}:${encode(value[k], `${path}.${k}`)}`).join(',')}}`;
  }
  throw new Refused(`${path}: not a JSON value`);
}

function encodeInteger(value, path) {
  const digits = (value < 0n ? -value : value).toString();
  if (digits.length > MAX_INT_DIGITS) throw new Refused(`${path}: integer of more than ${MAX_INT_DIGITS} digits`);
  return value.toString();
}

// Python's repr of a double: the shortest digits that read back as the same double, in fixed
// notation when 1e-4 <= |x| < 1e16 (with at least one digit either side of the point), else as
// d[.ddd]e-XX with at least two exponent digits. The protocol carries no larger doubles.
function encodeFloat(x, path) {
  if (!Number.isFinite(x)) throw new Refused(`${path}: NaN or Infinity`);
  if (Object.is(x, -0)) throw new Refused(`${path}: negative zero`);
  if (Math.abs(x) >= FLOAT_LIMIT) throw new Refused(`${path}: float of magnitude 1e16 or more`);
  if (x === 0) return '0.0';
  // Number.prototype.toString also writes the shortest round-trip digits; only its layout differs.
  const [mantissa, exponent = '0'] = String(Math.abs(x)).split('e');
  const point = mantissa.includes('.') ? mantissa.indexOf('.') : mantissa.length;
  let digits = mantissa.replace('.', '');
  let decimalPoint = point + Number(exponent); // x = 0.digits × 10^decimalPoint
  while (digits.startsWith('0')) {
    digits = digits.slice(1);
    decimalPoint -= 1;
  }
  digits = digits.replace(/0+$/, '');
  const sign = x < 0 ? '-' : '';
  if (decimalPoint > -4) {
    if (decimalPoint <= 0) return `${sign}0.${'0'.repeat(-decimalPoint)}${digits}`;
    if (decimalPoint >= digits.length) return `${sign}${digits}${'0'.repeat(decimalPoint - digits.length)}.0`;
    return `${sign}${digits.slice(0, decimalPoint)}.${digits.slice(decimalPoint)}`;
  }
  const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
  return `${sign}${digits[0]}${fraction}e-${String(1 - decimalPoint).padStart(2, '0')}`;
}

const SHORT_ESCAPES = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function encodeString(text, path) {
  let out = '"';
  for (const ch of text) { // by code point: a surrogate pair is one character
    const cp = ch.codePointAt(0);
    if (cp === 0) throw new Refused(`${path}: U+0000 in a string`);
    if (cp >= 0xd800 && cp <= 0xdfff) throw new Refused(`${path}: lone surrogate in a string`);
    if (ch in SHORT_ESCAPES) out += SHORT_ESCAPES[ch];
    else if (cp < 0x20) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch; // everything else as itself, U+007F, U+2028 and U+2029 included
  }
  return `${out}"`;
}

// By Unicode code point, not by UTF-16 code unit (JavaScript's default): they differ when a key has
// a character beyond U+FFFF, which UTF-16 writes as a surrogate (0xD800…) below U+E000–U+FFFF.
function byCodePoint(a, b) {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    const diff = left[i].codePointAt(0) - right[i].codePointAt(0);
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

// The fields the signature covers, as a receiver rebuilds them from what arrived.
function signedFields(envelope) {
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) throw new Refused('not an object');
  const fields = { ...envelope };
  for (const name of DEFAULT_EMPTY) if (!(name in fields)) fields[name] = '';
  if (!('schema_version' in fields)) fields.schema_version = 1n;
  for (const name of TEXT_FIELDS) {
    if (name in fields && typeof fields[name] !== 'string') throw new Refused(`${name} is not a string`);
  }
  for (const name of ['type', 'from_node', 'to_node', 'created_at', 'message_id', 'correlation_id', 'payload']) {
    if (!(name in fields)) throw new Refused(`${name} is missing`);
  }
  if (typeof fields.schema_version !== 'bigint' || fields.schema_version < 1n) throw new Refused('schema_version');
  if (fields.payload === null || typeof fields.payload !== 'object' || Array.isArray(fields.payload)) {
    throw new Refused('payload is not an object');
  }
  if (!isCanonicalTime(fields.created_at)) {
    throw new Refused(`created_at ${fields.created_at} is not a time written YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`);
  }
  for (const name of ['message_id', 'correlation_id']) {
    if (!UUID.test(fields[name])) throw new Refused(`${name} is not a lowercase hyphenated UUID`);
  }
  const known = ['payload', 'schema_version', ...TEXT_FIELDS].filter((name) => name !== 'signature');
  return Object.fromEntries(known.map((name) => [name, fields[name]])); // unknown fields are not signed
}

// UTC with +00:00, six fraction digits or none (never .000000), and a date and time that exist.
function isCanonicalTime(text) {
  const match = CREATED_AT.exec(text);
  if (!match || match[1] === '.000000') return false;
  const [year, month, day, hour, minute, second] = text.slice(0, 19).split(/[-T:]/).map(Number);
  const moment = new Date(0);
  moment.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads years 0–99 as 1900–1999
  moment.setUTCHours(hour, minute, second);
  const read = [moment.getUTCFullYear(), moment.getUTCMonth() + 1, moment.getUTCDate(),
    moment.getUTCHours(), moment.getUTCMinutes(), moment.getUTCSeconds()];
  return year >= 1 && read.every((part, i) => part === [year, month, day, hour, minute, second][i]);
}

// ------------------------------------------------------------------ SM2, SM3

function publicKeyHex(pem) {
  const body = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(body, 'base64').toString('hex');
  if (!der.startsWith(SPKI_PREFIX) || der.length !== SPKI_PREFIX.length + 130) {
    throw new Refused('public_key is not an SM2 SubjectPublicKeyInfo');
  }
  return { der, point: der.slice(SPKI_PREFIX.length) };
}

function base64Strict(text) {
  const raw = Buffer.from(text, 'base64');
  if (raw.toString('base64') !== text) throw new Refused('signature is not padded standard Base64');
  return raw;
}

// The library must compute Z with the default user id as GB/T 32918 does: check it on the standard's own
// example before trusting its verdicts.
function checkAnnexA() {
  const key = `04${ANNEX_A.x}${ANNEX_A.y}`;
  const message = new TextEncoder().encode(ANNEX_A.message);
  const signature = ANNEX_A.r + ANNEX_A.s;
  if (!sm2.doVerifySignature(message, signature, key, { hash: true })) {
    throw new Error('sm-crypto-v2 does not verify the GB/T 32918.5 Annex A signature');
  }
  if (sm2.doVerifySignature(message, signature, key, { hash: true, userId: 'ALICE123@YAHOO.COM' })) {
    throw new Error('sm-crypto-v2 ignores the user id');
  }
}

// ------------------------------------------------------------------ the golden examples

function sums(folder) {
  const listed = new Map();
  for (const line of readFileSync(join(folder, 'SM3SUMS'), 'utf8').split('\n')) {
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (match) listed.set(match[2], match[1]);
  }
  return listed;
}

function checkExample(folder, name, digests) {
  const example = readJson(readFileSync(join(folder, `${name}.json`), 'utf8'));
  const { envelope } = example;
  const canonical = Buffer.from(encode(signedFields(envelope)), 'utf8');
  const storedName = `${name}.canonical.txt`;
  const stored = readFileSync(join(folder, storedName));
  if (!canonical.equals(stored)) {
    const at = [...canonical].findIndex((byte, i) => byte !== stored[i]);
    throw new Refused(`canonical bytes differ from ${storedName} at byte ${at === -1 ? stored.length : at}`);
  }
  const digest = sm3(canonical);
  if (digests.get(storedName) !== digest) throw new Refused(`SM3 ${digest} is not the one SM3SUMS lists`);
  const key = publicKeyHex(example.public_key);
  if (key.point !== `04${ANNEX_A.x}${ANNEX_A.y}`) throw new Refused('not the GB/T 32918.5 Annex A key');
  if (envelope.key_id !== sm3(Buffer.from(key.der, 'hex'))) throw new Refused('key_id is not the SM3 of the key');
  const signature = base64Strict(envelope.signature).toString('hex');
  if (!sm2.doVerifySignature(canonical, signature, key.point, { der: true, hash: true })) {
    throw new Refused('the SM2 signature does not verify');
  }
}

function checkExamples(folder) {
  checkAnnexA();
  const digests = sums(folder);
  const names = readdirSync(folder).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
  let failed = 0;
  for (const name of names) {
    try {
      checkExample(folder, name, digests);
      console.log(`ok ${name}`);
    } catch (error) {
      failed += 1;
      console.log(`FAIL ${name}: ${error.message}`);
    }
  }
  console.log(`${names.length - failed} of ${names.length} golden examples conform`);
  return names.length > 0 && failed === 0;
}

function main(args) {
  if (args[0] === '--encode') {
    try {
      process.stdout.write(encode(readJson(readFileSync(args[1], 'utf8'))));
      return true;
    } catch (error) {
      console.log(`refused: ${error.message}`);
      return false;
    }
  }
  const folder = args[0] === '--examples' ? resolve(args[1]) : DEFAULT_EXAMPLES;
  return checkExamples(folder);
}

process.exitCode = main(process.argv.slice(2)) ? 0 : 1;
