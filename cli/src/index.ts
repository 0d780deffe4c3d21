export { Terminal } from "./output/terminal.js";
