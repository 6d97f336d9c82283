// Requester API keys: `npm run apikey -- create <name> [--admin]` prints a new key once.
// An admin key sees every job and the nodes on the dashboard.
import { issueApiKey } from '../apps/coordinator/src/auth/api-key';
import { AuthRepository } from '../apps/coordinator/src/auth/auth.repository';
import { loadConfig } from '../apps/coordinator/src/config/config';
import { PrismaService } from '../apps/coordinator/src/prisma/prisma.service';

async function main() {
  const args = process.argv.slice(2);
  const admin = args.includes('--admin');
  const [command, name] = args.filter((a) => a !== '--admin');
  if (command !== 'create' || !name || name.startsWith('-')) {
    console.error('usage: npm run apikey -- create <name> [--admin]');
    process.exit(2);
  }
  const prisma = new PrismaService(loadConfig());
  try {
    const key = await issueApiKey(new AuthRepository(prisma), name, { admin });
    const kind = admin ? 'Admin API key' : 'API key';
    console.log(`${kind} for "${name}" (id ${key.id}); store it now, it is not shown again:`);
    console.log(key.secret);
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((e: Error) => {
  console.error(`apikey: ${e.message}`);
  process.exit(1);
});
