// The minimal server both sides of the benchmark run: a Node request listener answering "ok".
export default (_req, res) => {
  res.end("ok");
};
