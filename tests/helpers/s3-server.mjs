#!/usr/bin/env node
// A real S3-API server (npm s3rver) for the artifact-store tests of both languages.
// Usage: node tests/helpers/s3-server.mjs --dir DIR --bucket NAME [--port N] [--exit-after-parts N]
// Prints one JSON line {"endpoint": "http://127.0.0.1:PORT"} once it listens.
// --exit-after-parts N: the process dies on receiving part N+1 of a multipart upload, without answering,
// as a server that goes away mid-upload does. Restarting on the same --dir and --port brings the data back.
import http from 'node:http';
import { parseArgs } from 'node:util';
import S3rver from 's3rver';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    bucket: { type: 'string' },
    port: { type: 'string', default: '0' },
    'exit-after-parts': { type: 'string' },
  },
});
if (!values.dir || !values.bucket) throw new Error('--dir and --bucket are required');

const s3 = new S3rver({ directory: values.dir, silent: true, configureBuckets: [{ name: values.bucket }] });
await s3.configureBuckets();
const handle = s3.callback();
const partsBeforeExit = values['exit-after-parts'] === undefined ? Infinity : Number(values['exit-after-parts']);
let partsReceived = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '') && ++partsReceived > partsBeforeExit) process.exit(3);
  handle(req, res);
});
server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ endpoint: `http://127.0.0.1:${server.address().port}` }) + '\n');
});
