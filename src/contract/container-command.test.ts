import { describe, expect, it } from 'vitest';
import { effectiveArgv, resolveContainerCommand } from './container-command.js';

const execForm = { entrypoint: ['python3', '/opt/program/report.py'], cmd: ['from-image-cmd'] };

describe('the start rule of CONTRACT §2.1', () => {
  it('no override: the job word replaces CMD', () => {
    const c = resolveContainerCommand('train');
    expect(c).toEqual({ cmd: ['train'] });
    expect(effectiveArgv(c, execForm)).toEqual(['python3', '/opt/program/report.py', 'train']);
    expect(effectiveArgv(c, { entrypoint: null, cmd: ['/bin/bash'] })).toEqual(['train']);
  });

  it('ContainerEntrypoint only: replaces ENTRYPOINT, drops the image CMD, no job word', () => {
    const c = resolveContainerCommand('train', { containerEntrypoint: ['python3', '-u', 'x.py'] });
    expect(c).toEqual({ entrypoint: ['python3', '-u', 'x.py'], cmd: [] });
    expect(effectiveArgv(c, execForm)).toEqual(['python3', '-u', 'x.py']);
  });

  it('ContainerArguments only: keeps ENTRYPOINT, the arguments replace CMD, no job word', () => {
    const c = resolveContainerCommand('train', { containerArguments: ['--epochs', '3'] });
    expect(c).toEqual({ cmd: ['--epochs', '3'] });
    expect(effectiveArgv(c, execForm)).toEqual(['python3', '/opt/program/report.py', '--epochs', '3']);
  });

  it('both: the given entrypoint with the given arguments', () => {
    const c = resolveContainerCommand('train', { containerEntrypoint: ['bash'], containerArguments: ['-c', 'echo hi'] });
    expect(effectiveArgv(c, execForm)).toEqual(['bash', '-c', 'echo hi']);
  });

  it('processing (no job word) runs the image as built', () => {
    expect(effectiveArgv(resolveContainerCommand(undefined), execForm)).toEqual(['python3', '/opt/program/report.py', 'from-image-cmd']);
  });
});
