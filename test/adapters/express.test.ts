import { describeAdapter } from './support/adapter-suite.js';
import { EXPRESS_VERSIONS, expressAppOn } from './support/express-app.js';

for (const { name, express } of EXPRESS_VERSIONS) describeAdapter(name, expressAppOn(express));
