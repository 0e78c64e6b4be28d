// `express4` is a dev-only alias of express@4 (npm:express@^4) with no types of its own. Express 4's
// runtime API used by these tests is the same as 5's, so borrow @types/express (5).
declare module 'express4' {
  import express from 'express';
  export default express;
}
