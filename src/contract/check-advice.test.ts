import { describe, expect, it } from 'vitest';
import { describeExit, hyperparameterHint, parseListeningSockets, processTree, readinessAdvice, sigtermAdvice, type ContainerProcess } from './check-advice.js';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 100 0 0 10 0
   1: 00000000:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1235 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 1236 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 98 1 0000000000000000 100 0 0 10 0
`;

describe('parseListeningSockets', () => {
  it('reads the listening sockets of /proc/net/tcp and tcp6, not the connections', () => {
    expect(parseListeningSockets(`${TCP}\n${TCP6}`)).toEqual([
      { address: '127.0.0.1', port: 8080 },
      { address: '0.0.0.0', port: 5000 },
      { address: '::', port: 8080 },
      { address: '::1', port: 80 },
    ]);
    expect(parseListeningSockets('')).toEqual([]);
  });
});

describe('describeExit', () => {
  it('names the signal behind an exit code above 128', () => {
    expect(describeExit(139)).toBe('exit code 139 (killed by SIGSEGV)');
    expect(describeExit(137)).toBe('exit code 137 (killed by SIGKILL, often the kernel out of memory)');
    expect(describeExit(2)).toBe('exit code 2');
  });
});

describe('readinessAdvice', () => {
  const ctx = { windowSeconds: 10 };
  it('says the container exited, with its code and last lines, and nothing about addresses', () => {
    const a = readinessAdvice({ kind: 'exited', exitCode: 1, tail: ['Traceback', 'FileNotFoundError: model.pkl'] }, ctx);
    expect(a.observed).toBe('the container exited with exit code 1 before GET /ping answered 200. Last output: Traceback | FileNotFoundError: model.pkl');
    expect(a.fix).not.toMatch(/0\.0\.0\.0/);
  });
  it('names the route for a 404', () => {
    expect(readinessAdvice({ kind: 'status', status: 404 }, ctx).fix).toMatch(/^Add a GET \/ping route/);
  });
  it('says where the server does listen when nothing answers on the port', () => {
    const loopback = readinessAdvice({ kind: 'no-connection', error: 'ECONNREFUSED', port: 8080, listening: [{ address: '127.0.0.1', port: 8080 }] }, ctx);
    expect(loopback.observed).toMatch(/the server listens on 127\.0\.0\.1:8080, which only the container itself can reach/);
    expect(loopback.fix).toMatch(/^Listen on 0\.0\.0\.0:8080 \(all addresses\), not 127\.0\.0\.1:8080/);
    const port = readinessAdvice({ kind: 'no-connection', error: 'ECONNREFUSED', port: 8080, listening: [{ address: '0.0.0.0', port: 5000 }] }, ctx);
    expect(port.observed).toBe('nothing listens on port 8080 (ECONNREFUSED); the container listens on 0.0.0.0:5000');
    expect(port.fix).toMatch(/^Listen on port 8080 on 0\.0\.0\.0/);
    expect(readinessAdvice({ kind: 'no-connection', error: 'ECONNREFUSED', port: 8080, listening: [] }, ctx).observed).toMatch(/listens on no TCP port at all/);
  });
});

const procs = (...rows: [number, number, string][]): ContainerProcess[] => rows.map(([pid, ppid, args]) => ({ pid, ppid, args }));

describe('sigtermAdvice', () => {
  const train = { word: 'train' as const, graceSeconds: 120, entrypoint: null, trainingToolkit: false };
  it('finds PID 1 as the process whose parent is outside the container', () => {
    expect(processTree(procs([900, 1, 'python3 a.py'], [950, 900, 'python3 b.py']))?.root.pid).toBe(900);
  });
  it('names the toolkit as PID 1 and does not advise an ENTRYPOINT form the image does not have', () => {
    const a = sigtermAdvice(procs([900, 1, '/usr/bin/python3 /usr/local/bin/train'], [950, 900, '/usr/bin/python3 train.py --epochs 60']), { ...train, trainingToolkit: true });
    expect(a.observed).toMatch(/PID 1 is `\/usr\/bin\/python3 \/usr\/local\/bin\/train`, the SageMaker training toolkit's `train`: it installs no SIGTERM handler .* does not pass it to your script \(`\/usr\/bin\/python3 train.py --epochs 60`\)/);
    expect(a.fix).toMatch(/save checkpoints to \/opt\/ml\/checkpoints/);
    expect(a.fix).not.toMatch(/exec-form ENTRYPOINT so|Use an exec-form/);
  });
  it('tells a shell script to exec its program, and names tail -f /dev/null', () => {
    const a = sigtermAdvice(procs([10, 1, '/bin/bash /usr/local/bin/entrypoint.sh serve'], [11, 10, 'python3 /opt/program/serve.py'], [12, 10, 'tail -f /dev/null']), {
      word: 'serve',
      graceSeconds: 30,
      entrypoint: ['/usr/local/bin/entrypoint.sh'],
      trainingToolkit: false,
    });
    expect(a.observed).toMatch(/PID 1 is `\/bin\/bash \/usr\/local\/bin\/entrypoint.sh serve`, a shell script that started `python3 \/opt\/program\/serve.py` without `exec`.* ends in `tail -f \/dev\/null`/);
    expect(a.fix).toMatch(/In \/usr\/local\/bin\/entrypoint.sh, start the program with `exec` \(`exec python3 …`\)/);
    expect(a.fix).not.toMatch(/exec-form ENTRYPOINT/);
  });
  it('tells a program without a handler to install one', () => {
    const a = sigtermAdvice(procs([10, 1, 'python3 -u /opt/program/train.py']), { ...train, entrypoint: ['python3', '-u', '/opt/program/train.py'] });
    expect(a.observed).toMatch(/PID 1 is `python3 -u \/opt\/program\/train.py`, which has no SIGTERM handler/);
    expect(a.fix).toMatch(/no chance to save a final model .* Give `\/opt\/program\/train.py` a SIGTERM handler that saves the model/);
  });
  it('without a process table, mentions the ENTRYPOINT only when the image has one', () => {
    expect(sigtermAdvice(undefined, train).fix).not.toMatch(/ENTRYPOINT/);
    expect(sigtermAdvice(undefined, { ...train, entrypoint: ['/run.sh'] }).fix).toMatch(/ENTRYPOINT \["\/run.sh"\] must be the program itself/);
  });
});

describe('hyperparameterHint', () => {
  it('hints that hyperparameters are strings when the log shows a str type error', () => {
    expect(hyperparameterHint('TypeError: can only concatenate str (not "int") to str', { epochs: '5' })).toMatch(/every hyperparameter to the container as a string/);
    expect(hyperparameterHint("TypeError: '<' not supported between instances of 'str' and 'int'", { lr: '0.1' })).toBeDefined();
    expect(hyperparameterHint('ValueError: bad row', { epochs: '5' })).toBeUndefined();
    expect(hyperparameterHint('TypeError: can only concatenate str (not "int") to str', {})).toBeUndefined();
  });
});
