package dev.vxsocks.launcher;

import dev.vxsocks.config.PasswordHash;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.concurrent.Callable;

/** {@code hash-password}: a hash for {@code users[].password}, of a password read from the terminal or stdin. */
@Command(name = "hash-password", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = {"Print a PBKDF2-HMAC-SHA256 hash (PHC format) for users[].password. The password is asked twice "
        + "on a terminal, else read as one line of standard input; it is never printed."})
final class HashPasswordCommand implements Callable<Integer> {

  // A string, not an int, so that a bad value gets this command's own message.
  @Option(names = "--iterations", paramLabel = "N",
      description = "PBKDF2 iterations (default: " + PasswordHash.DEFAULT_ITERATIONS + ", at least "
          + PasswordHash.MIN_ITERATIONS + "); read the README's \"Logins after a failover\" before lowering it")
  String iterations;

  private final Main.Io io;

  HashPasswordCommand(Main.Io io) {
    this.io = io;
  }

  @Override
  public Integer call() {
    int n = PasswordHash.DEFAULT_ITERATIONS;
    if (iterations != null) {
      try {
        n = Integer.parseInt(iterations);
      } catch (NumberFormatException e) {
        throw new Main.UsageException("--iterations must be a whole number");
      }
      if (n < PasswordHash.MIN_ITERATIONS) {
        throw new Main.UsageException("--iterations must be at least " + PasswordHash.MIN_ITERATIONS);
      }
    }
    char[] password = Main.readPassword(io.err());
    if (password == null) {
      return 1;
    }
    io.out().println(PasswordHash.create(password, n).encoded());
    Arrays.fill(password, '\0');
    return 0;
  }
}
