// Runs the benchmark playbook in aws-local-stepfunctions (an ASL
// interpreter in TypeScript) and prints executions and state transitions
// per second. Usage: node run.mjs DEFINITION INPUT TRANSITIONS_PER_EXECUTION [SECONDS]
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';

const [defPath, inputPath, perExecArg, secondsArg] = process.argv.slice(2);
const definition = JSON.parse(readFileSync(defPath, 'utf8'));
const input = JSON.parse(readFileSync(inputPath, 'utf8'));
const perExec = Number(perExecArg);
const seconds = Number(secondsArg || 10);

// steward:echo returns its input; give every Task state the same local handler.
const handlers = {};
const collect = (states) => {
  for (const [name, s] of Object.entries(states)) {
    if (s.Type === 'Task') handlers[name] = async (x) => x;
    for (const b of s.Branches || []) collect(b.States);
    if (s.ItemProcessor) collect(s.ItemProcessor.States);
    if (s.Iterator) collect(s.Iterator.States);
  }
};
collect(definition.States);

const sm = new StateMachine(definition, { validationOptions: { checkArn: false } });
const once = () => sm.run(input, { overrides: { taskResourceLocalHandlers: handlers } }).result;

const check = await once();
if (!check || check.handled !== 100) {
  console.error('unexpected result', JSON.stringify(check));
  process.exit(1);
}
for (let i = 0; i < 20; i++) await once(); // warm up the JIT

let n = 0;
const start = process.hrtime.bigint();
const deadline = start + BigInt(Math.round(seconds * 1e9));
while (process.hrtime.bigint() < deadline) {
  await once();
  n++;
}
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
const perSecond = n / elapsed;
console.log(JSON.stringify({
  interpreter: 'aws-local-stepfunctions',
  executions: n,
  seconds: elapsed,
  executionsPerSecond: perSecond,
  transitionsPerSecond: perSecond * perExec,
}));
