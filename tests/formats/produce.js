// One Node logging library writing FILE, driven by produce.py: each line
// read on stdin ("K") is a burst of three log lines; "ok" answers when they
// are written. Usage: node produce.js pino|winston|bunyan FILE
"use strict";
const readline = require("readline");
const [lib, file] = process.argv.slice(2);

let info, flush;
if (lib === "pino") {
  const pino = require("pino");
  const dest = pino.destination({ dest: file, sync: true });
  const log = pino(dest);
  info = (m) => log.info(m);
  flush = (done) => done();
} else if (lib === "winston") {
  const winston = require("winston");
  const transport = new winston.transports.File({ filename: file });
  const log = winston.createLogger({
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
  info = (m) => log.info(m);
  // The file transport writes asynchronously: answer once the stream drained.
  flush = (done) => setTimeout(done, 50);
} else if (lib === "bunyan") {
  const bunyan = require("bunyan");
  const log = bunyan.createLogger({ name: "produce", streams: [{ path: file }] });
  info = (m) => log.info(m);
  flush = (done) => setTimeout(done, 50);
} else {
  console.error("unknown library " + lib);
  process.exit(2);
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (k) => {
  for (let i = 0; i < 3; i++) info(`burst ${k} line ${i}`);
  flush(() => process.stdout.write("ok\n"));
});
rl.on("close", () => setTimeout(() => process.exit(0), 200));
