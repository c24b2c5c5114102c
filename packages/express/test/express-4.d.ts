// The Express 4 copy installed under an alias for tests; its API is typed like Express 5's here.
declare module 'express-4' {
  import express from 'express';
  export default express;
}
