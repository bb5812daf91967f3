// Worker-thread entry of the partition engine. Requests: `collect`, `save`, `close`; log records are
// forwarded to the main thread's logger.

import { parentPort, workerData } from 'node:worker_threads';
import type { LogFields, Logger, LogLevel } from '../log.ts';
import { type EngineSettings, EngineSetupError, PartitionEngine } from './engine.ts';

export interface WorkerSettings extends EngineSettings {
  readonly saveIntervalMs: number;
}

export type EngineRequest = { readonly id: number; readonly type: 'collect' | 'save' | 'close' };

export type EngineMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'setup-error'; readonly message: string; readonly rules: boolean }
  | { readonly type: 'log'; readonly level: LogLevel; readonly msg: string; readonly fields?: LogFields }
  | { readonly type: 'reply'; readonly id: number; readonly result?: unknown; readonly error?: string };

const port = parentPort;
if (port === null) throw new Error('engine-worker.ts runs as a worker thread');
const post = (message: EngineMessage): void => port.postMessage(message);
const forward =
  (level: LogLevel) =>
  (msg: string, fields?: LogFields): void =>
    post({ type: 'log', level, msg, ...(fields && { fields }) });
const log: Logger = {
  debug: forward('debug'),
  info: forward('info'),
  warn: forward('warn'),
  error: forward('error'),
};

const settings = workerData as WorkerSettings;
let engine: PartitionEngine | undefined;
try {
  engine = new PartitionEngine(settings, log);
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'setup-error', message: (error as Error).message, rules: error instanceof EngineSetupError });
}

if (engine) {
  const running = engine;
  const timer =
    settings.stateFile === '' ? undefined : setInterval(() => running.save(), settings.saveIntervalMs);
  port.on('message', async ({ id, type }: EngineRequest) => {
    try {
      if (type === 'collect') {
        post({ type: 'reply', id, result: await running.collect() });
        return;
      }
      running.save();
      post({ type: 'reply', id });
      if (type === 'close') {
        clearInterval(timer);
        port.close();
      }
    } catch (error) {
      post({ type: 'reply', id, error: (error as Error).message });
    }
  });
}
