/**
 * Finds or prepares a model's graphs on a thread of its own: preparing parses and rewrites
 * hundreds of MB of protobuf in JavaScript, which would stall the HTTP thread (health probes
 * included) for seconds at a first boot.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { findOrPrepare } from './model-preparer';
import { PrepareReply, PrepareRequest } from './prepare-off-thread';

const port = parentPort!;
const request = workerData as PrepareRequest;
const send = (reply: PrepareReply) => port.postMessage(reply);

findOrPrepare(request.modelDir, request.dtype, request.fallbackCacheDir, (message) =>
  send({ type: 'log', message }),
).then(
  (prepared) => send({ type: 'done', prepared }),
  (error: Error) => send({ type: 'failed', message: error.message }),
);
