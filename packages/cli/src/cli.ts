import { run } from './run.js';

// Exit explicitly: a task module may leave timers or sockets open that would keep Node alive.
run(process.argv.slice(2)).then((code) => process.exit(code));
