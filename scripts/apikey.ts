// Requester API keys: `npm run apikey -- create <name>` prints a new key once.
import { issueApiKey } from '../apps/coordinator/src/auth/api-key';
import { AuthRepository } from '../apps/coordinator/src/auth/auth.repository';
import { loadConfig } from '../apps/coordinator/src/config/config';
import { PrismaService } from '../apps/coordinator/src/prisma/prisma.service';

async function main() {
  const [command, name] = process.argv.slice(2);
  if (command !== 'create' || !name) {
    console.error('usage: npm run apikey -- create <name>');
    process.exit(2);
  }
  const prisma = new PrismaService(loadConfig());
  try {
    const key = await issueApiKey(new AuthRepository(prisma), name);
    console.log(`API key for "${name}" (id ${key.id}); store it now, it is not shown again:`);
    console.log(key.secret);
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((e: Error) => {
  console.error(`apikey: ${e.message}`);
  process.exit(1);
});
