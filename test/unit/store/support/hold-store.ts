/** Child process of the lock tests: opens the store given as argv[2], reports its PID, then waits to be killed. */
import { openStore } from '../../../../src/store/index.js';

const root = process.argv[2]!;
await openStore(root);
process.stdout.write(`locked ${process.pid}\n`);
setInterval(() => undefined, 1 << 30);
