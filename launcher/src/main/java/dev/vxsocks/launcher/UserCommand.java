package dev.vxsocks.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/**
 * {@code user add|passwd|disable|enable|remove|list}: changes the users of a running cluster ({@link Admin}). Each
 * action is a subcommand of its own, so {@code --hash} exists only where it means something.
 */
@Command(name = "user", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = {"Change the users of a running cluster: connects for a moment, as a Hazelcast client, to the "
        + "cluster.members of the configuration, changes the users map, and leaves. Every node applies the change "
        + "within a second; a disabled or removed user's open sessions are closed."})
final class UserCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    throw new Main.UsageException("user needs one of " + String.join(", ", Admin.USER_ACTIONS.stream().sorted().toList()));
  }

  /** The parent with its six actions. */
  static CommandLine commandLine(Main.Io io) {
    CommandLine user = new CommandLine(new UserCommand());
    user.addSubcommand(new Add(io));
    user.addSubcommand(new Passwd(io));
    user.addSubcommand(new Disable(io));
    user.addSubcommand(new Enable(io));
    user.addSubcommand(new Remove(io));
    user.addSubcommand(new ListUsers(io));
    return user;
  }

  /** What every action takes. */
  abstract static class Action implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = Main.CONFIG_HELP_CLUSTER)
    String config;

    final String action;
    final Main.Io io;

    Action(String action, Main.Io io) {
      this.action = action;
      this.io = io;
    }

    String name() {
      return null;
    }

    String hash() {
      return null;
    }

    @Override
    public Integer call() {
      return Admin.user(action, name(), hash(), Main.configPath(config), io.out(), io.err());
    }
  }

  /** An action on one user ({@link Admin#user} checks the name's length). */
  abstract static class Named extends Action {
    @Parameters(paramLabel = "NAME", description = "The user name (1 to 255 bytes, RFC 1929)")
    String name;

    Named(String action, Main.Io io) {
      super(action, io);
    }

    @Override
    String name() {
      return name;
    }
  }

  /** {@code add} and {@code passwd}: a password, read (asked twice on a terminal) or given hashed. */
  abstract static class WithPassword extends Named {
    @Option(names = "--hash", paramLabel = "HASH", description = "The password's hash (from hash-password) instead "
        + "of reading the password from the terminal or standard input")
    String hash;

    WithPassword(String action, Main.Io io) {
      super(action, io);
    }

    @Override
    String hash() {
      return hash;
    }
  }

  @Command(name = "add", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Add a user (the password is read from the terminal or stdin, or --hash)")
  static final class Add extends WithPassword {
    Add(Main.Io io) {
      super("add", io);
    }
  }

  @Command(name = "passwd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Give a user a new password (read, or --hash)")
  static final class Passwd extends WithPassword {
    Passwd(Main.Io io) {
      super("passwd", io);
    }
  }

  @Command(name = "disable", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
      description = "Disable a user: refused everywhere, open sessions closed; the entry and password stay")
  static final class Disable extends Named {
    Disable(Main.Io io) {
      super("disable", io);
    }
  }

  @Command(name = "enable", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
      description = "Enable a disabled user again")
  static final class Enable extends Named {
    Enable(Main.Io io) {
      super("enable", io);
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
      description = "Remove a user: refused everywhere, open sessions closed")
  static final class Remove extends Named {
    Remove(Main.Io io) {
      super("remove", io);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
      description = "List the users, disabled ones marked")
  static final class ListUsers extends Action {
    ListUsers(Main.Io io) {
      super("list", io);
    }
  }
}
