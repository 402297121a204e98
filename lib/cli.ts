#!/usr/bin/env node
/**
 * The `ndsampler` command: demo, prepare, manifest, info, show, bench (one module each under lib/cli/).
 * Exit codes: 0 success, 1 a failure (an image that could not be read or converted, ...),
 * 2 a usage error (printed with the usage text on stderr).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeError, err, help, out, USAGE, UsageError } from './cli/args';
import { cmdBench } from './cli/bench';
import { cmdDemo } from './cli/demo';
import { cmdInfo, cmdManifest, cmdPrepare } from './cli/prepare';
import { cmdShow } from './cli/show';

export { collectInputs } from './cli/args';

const ROOT = path.resolve(__dirname, '..');

function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
        throw new UsageError('missing command');
      case '-h': case '--help': case 'help':
        return help();
      case '-v': case '--version':
        out(version());
        return 0;
      case 'demo':
        return await cmdDemo(rest);
      case 'prepare':
        return await cmdPrepare(rest);
      case 'info':
        return cmdInfo(rest);
      case 'manifest':
        return cmdManifest(rest);
      case 'bench':
        return cmdBench(rest);
      case 'show':
        return await cmdShow(rest);
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`ndsampler: ${e.message}\n`);
      process.stderr.write(USAGE);
      return 2;
    }
    err(`ndsampler ${cmd}: ${describeError(e)}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (e: unknown) => {
    err(`ndsampler: ${describeError(e)}`);
    process.exitCode = 1;
  });
}
