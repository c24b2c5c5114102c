import { runAdapterContract } from '@queue/test-utils';
import { startContractApp } from './contract-app.js';

runAdapterContract({
  name: 'nest (@Processor provider)',
  start: (options) => startContractApp('decorated', options),
});
runAdapterContract({ name: 'nest (tasks option)', start: (options) => startContractApp('plain', options) });
