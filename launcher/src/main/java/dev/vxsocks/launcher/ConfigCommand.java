package dev.vxsocks.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code config apply|status}: the configuration of a running cluster ({@link Admin}). */
@Command(name = "config", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = {"Roll a configuration out to a running cluster, or see the version each member runs. Connects "
        + "for a moment, as a Hazelcast client, to the cluster.members of the configuration."})
final class ConfigCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    throw new Main.UsageException("config needs apply [--users] FILE or status");
  }

  static CommandLine commandLine(Main.Io io) {
    CommandLine config = new CommandLine(new ConfigCommand());
    config.addSubcommand(new Apply(io));
    config.addSubcommand(new Status(io));
    return config;
  }

  @Command(name = "apply", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
      description = {"Validate FILE, roll it out to every node of the cluster it names and wait up to 5 s for each "
          + "to report its version (exit code 1 if one did not). Users differing between FILE and the cluster are "
          + "listed, and changed only with --users: the cluster's users are the source of truth."})
  static final class Apply implements Callable<Integer> {
    @Option(names = "--users", description = "Also make the file's users the cluster's (added, enabled, disabled, "
        + "new password); users only in the cluster are kept")
    boolean users;

    @Parameters(paramLabel = "FILE", description = "The configuration to roll out (YAML)")
    String file;

    private final Main.Io io;

    Apply(Main.Io io) {
      this.io = io;
    }

    @Override
    public Integer call() {
      return Admin.configApply(Path.of(file), users, io.out(), io.err());
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
      description = "The configuration version rolled out, and the one each member runs")
  static final class Status implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = Main.CONFIG_HELP_CLUSTER)
    String config;

    private final Main.Io io;

    Status(Main.Io io) {
      this.io = io;
    }

    @Override
    public Integer call() {
      return Admin.configStatus(Main.configPath(config), io.out(), io.err());
    }
  }
}
