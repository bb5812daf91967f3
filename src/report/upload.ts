// Sends reports the way SlapOS's master accepts them: an HTTP POST of a form with the fields
// `computer_id` and `use_string` (the XML). A report that cannot be sent stays queued for
// `hostmeter report upload`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import { markSent, queuedReports } from './files.ts';

export interface UploadOptions {
  readonly url: string;
  readonly retries: number;
  readonly timeoutMs: number;
  /** First delay between attempts, doubled each time. */
  readonly backoffMs: number;
  readonly log: Logger;
}

export class UploadError extends Error {
  override name = 'UploadError';
}

/** POSTs one report, retrying network errors and 5xx; a 4xx is final (the master rejected the document). */
export async function uploadReport(computer: string, xml: string, options: UploadOptions): Promise<void> {
  const body = new URLSearchParams({ computer_id: computer, use_string: xml });
  let delay = options.backoffMs;
  for (let attempt = 0; ; attempt++) {
    let problem: string;
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (response.ok) return;
      const text = (await response.text()).slice(0, 200);
      problem = `${response.status} ${text}`.trim();
      if (response.status < 500) throw new UploadError(`upload of ${computer} rejected: ${problem}`);
    } catch (error) {
      if (error instanceof UploadError) throw error;
      problem = (error as Error).message;
    }
    if (attempt >= options.retries)
      throw new UploadError(`upload of ${computer} failed after ${attempt + 1} attempts: ${problem}`);
    options.log.warn('upload failed, retrying', { computer, attempt: attempt + 1, err: problem });
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay *= 2;
  }
}

export interface UploadSummary {
  readonly sent: number;
  readonly failed: number;
}

/** Sends every queued report of `outputDir`; each sent one moves to sent/, a failed one stays queued. */
export async function uploadQueue(outputDir: string, options: UploadOptions): Promise<UploadSummary> {
  let sent = 0;
  let failed = 0;
  for (const { computerDir, file } of queuedReports(outputDir)) {
    const computer = computerDir.split('/').pop() ?? '';
    try {
      await uploadReport(computer, readFileSync(join(computerDir, file), 'utf8'), options);
      markSent(computerDir, file);
      sent++;
      options.log.info('report sent', { computer, file });
    } catch (error) {
      failed++;
      options.log.error('report not sent, left queued', { computer, file, err: (error as Error).message });
    }
  }
  return { sent, failed };
}
