# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_holdfast_global_optspecs
    string join \n h/help V/version
end

function __fish_holdfast_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_holdfast_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_holdfast_using_subcommand
    set -l cmd (__fish_holdfast_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c holdfast -n "__fish_holdfast_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c holdfast -n "__fish_holdfast_needs_command" -s V -l version -d 'Print version'
complete -c holdfast -n "__fish_holdfast_needs_command" -f -a "check" -d 'Check a keepalived.conf: every error and warning with its place, then a summary'
complete -c holdfast -n "__fish_holdfast_needs_command" -f -a "run" -d 'Run the director: VRRP on the real interfaces, in the foreground (SIGTERM stops, SIGHUP reloads, SIGUSR1 dumps state)'
complete -c holdfast -n "__fish_holdfast_needs_command" -f -a "sim" -d 'Simulate a scenario: print each incident\'s figures and the invariant verdict'
complete -c holdfast -n "__fish_holdfast_needs_command" -f -a "sweep" -d 'Simulate a scenario over many seeds with randomised faults and network (swarm testing)'
complete -c holdfast -n "__fish_holdfast_needs_command" -f -a "report" -d 'Plot a trace or a sweep: timeline, distributions and an HTML page'
complete -c holdfast -n "__fish_holdfast_needs_command" -f -a "demo" -d 'Simulate the case study, sweep it, and write the report: the first thing to run'
complete -c holdfast -n "__fish_holdfast_needs_command" -f -a "genhash" -d 'Fetch a url as HTTP_GET / SSL_GET do and print the digest for its `digest` line (keepalived\'s genhash)'
complete -c holdfast -n "__fish_holdfast_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c holdfast -n "__fish_holdfast_using_subcommand check" -s f -l use-file -d 'The configuration file' -r -F
complete -c holdfast -n "__fish_holdfast_using_subcommand check" -s i -l config-id -d 'Config id that `@ID` lines are compared with (default: the short host name, as keepalived)' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand check" -l ignore-unimplemented -d 'Run without the features holdfast does not implement yet (each is then a warning saying what will be missing) instead of refusing the configuration: those features will not work'
complete -c holdfast -n "__fish_holdfast_using_subcommand check" -l strict -d 'Treat every warning as an error'
complete -c holdfast -n "__fish_holdfast_using_subcommand check" -l json -d 'Print the typed model as JSON on standard output'
complete -c holdfast -n "__fish_holdfast_using_subcommand check" -s h -l help -d 'Print help'
complete -c holdfast -n "__fish_holdfast_using_subcommand run" -s f -l use-file -d 'The configuration file' -r -F
complete -c holdfast -n "__fish_holdfast_using_subcommand run" -s i -l config-id -d 'Config id that `@ID` lines are compared with (default: the short host name, as keepalived)' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand run" -l dump -d 'Where SIGUSR1 writes the state, as JSON' -r -F
complete -c holdfast -n "__fish_holdfast_using_subcommand run" -l trace -d 'Write trace records (JSON lines, as `holdfast sim --trace`) here' -r -F
complete -c holdfast -n "__fish_holdfast_using_subcommand run" -l log -d 'Log level filter (tracing\'s syntax: info, debug, holdfast_runtime=debug...)' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand run" -l data-plane -d 'Data plane for virtual_server tables: auto (IPVS if the kernel has it, else nftables), ipvs, nftables or none' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand run" -l repair-interval -d 'Seconds between reads of the kernel\'s table that repair drift' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand run" -l ignore-unimplemented -d 'Run without the features holdfast does not implement yet (each is then a warning saying what will be missing) instead of refusing the configuration: those features will not work'
complete -c holdfast -n "__fish_holdfast_using_subcommand run" -s I -l dont-release-ipvs -d 'Leave the LVS table in the kernel on stop (as keepalived\'s -I)'
complete -c holdfast -n "__fish_holdfast_using_subcommand run" -l ssl-verify -d 'SSL_GET checks certificates against the SSL block\'s `ca` and the server\'s name (keepalived never checks them)'
complete -c holdfast -n "__fish_holdfast_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c holdfast -n "__fish_holdfast_using_subcommand sim" -l seed -d 'Seed (default: the scenario\'s)' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand sim" -l trace -d 'Write the trace (JSON lines) here' -r -F
complete -c holdfast -n "__fish_holdfast_using_subcommand sim" -l duration -d 'Simulated seconds (default: the scenario\'s)' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand sim" -l swarm -d 'Vary fault timing and network conditions from the seed, as `sweep` does'
complete -c holdfast -n "__fish_holdfast_using_subcommand sim" -l generate -d 'Replace the scenario\'s faults with a schedule generated from its topology, and vary the election settings, from the seed (as `sweep --generate` does)'
complete -c holdfast -n "__fish_holdfast_using_subcommand sim" -l json -d 'Print the report as JSON instead of the table'
complete -c holdfast -n "__fish_holdfast_using_subcommand sim" -l ignore-unimplemented -d 'Run without the features holdfast does not implement yet (each is then a warning saying what will be missing) instead of refusing the configuration: those features will not work'
complete -c holdfast -n "__fish_holdfast_using_subcommand sim" -s h -l help -d 'Print help'
complete -c holdfast -n "__fish_holdfast_using_subcommand sweep" -l seeds -d 'How many seeds' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand sweep" -l first-seed -d 'The first seed' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand sweep" -l jobs -d 'Threads (default: the machine\'s cores)' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand sweep" -l duration -d 'Simulated seconds per seed (default: the scenario\'s)' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand sweep" -l out -d 'Write the whole sweep (every seed\'s incidents) as JSON here' -r -F
complete -c holdfast -n "__fish_holdfast_using_subcommand sweep" -l generate -d 'Generate each seed\'s fault schedule from the topology and vary the configurations\' election settings, instead of shifting the scenario\'s own faults'
complete -c holdfast -n "__fish_holdfast_using_subcommand sweep" -l ignore-unimplemented -d 'Run without the features holdfast does not implement yet (each is then a warning saying what will be missing) instead of refusing the configuration: those features will not work'
complete -c holdfast -n "__fish_holdfast_using_subcommand sweep" -s h -l help -d 'Print help'
complete -c holdfast -n "__fish_holdfast_using_subcommand report" -l sweep -d 'A sweep to add to a trace\'s report' -r -F
complete -c holdfast -n "__fish_holdfast_using_subcommand report" -s o -l out -d 'Directory to write the report into' -r -F
complete -c holdfast -n "__fish_holdfast_using_subcommand report" -s h -l help -d 'Print help'
complete -c holdfast -n "__fish_holdfast_using_subcommand demo" -s o -l out -d 'Directory to write the report into (created if missing)' -r -F
complete -c holdfast -n "__fish_holdfast_using_subcommand demo" -l seeds -d 'Seeds in the demo\'s sweep' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c holdfast -n "__fish_holdfast_using_subcommand genhash" -s s -l server -d 'Server address' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand genhash" -s p -l port -d 'Server port' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand genhash" -s u -l url -d 'Path of the url' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand genhash" -s I -l sni -d 'SNI name to send (with -S)' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand genhash" -s V -l virtualhost -d 'Host header (virtualhost)' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand genhash" -s P -l protocol -d 'HTTP protocol: 1.0, 1.0c (Connection: close) or 1.1' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand genhash" -s t -l timeout -d 'Seconds to wait for the whole answer' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand genhash" -s m -l fwmark -d 'fwmark for the connection\'s packets' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand genhash" -l ca -d 'Trust only this CA (PEM) and check the certificate (default: any, as keepalived)' -r
complete -c holdfast -n "__fish_holdfast_using_subcommand genhash" -s S -l ssl -d 'Over TLS, as SSL_GET'
complete -c holdfast -n "__fish_holdfast_using_subcommand genhash" -s v -l verbose -d 'Show the header and the hashed body'
complete -c holdfast -n "__fish_holdfast_using_subcommand genhash" -s h -l help -d 'Print help'
complete -c holdfast -n "__fish_holdfast_using_subcommand help; and not __fish_seen_subcommand_from check run sim sweep report demo genhash help" -f -a "check" -d 'Check a keepalived.conf: every error and warning with its place, then a summary'
complete -c holdfast -n "__fish_holdfast_using_subcommand help; and not __fish_seen_subcommand_from check run sim sweep report demo genhash help" -f -a "run" -d 'Run the director: VRRP on the real interfaces, in the foreground (SIGTERM stops, SIGHUP reloads, SIGUSR1 dumps state)'
complete -c holdfast -n "__fish_holdfast_using_subcommand help; and not __fish_seen_subcommand_from check run sim sweep report demo genhash help" -f -a "sim" -d 'Simulate a scenario: print each incident\'s figures and the invariant verdict'
complete -c holdfast -n "__fish_holdfast_using_subcommand help; and not __fish_seen_subcommand_from check run sim sweep report demo genhash help" -f -a "sweep" -d 'Simulate a scenario over many seeds with randomised faults and network (swarm testing)'
complete -c holdfast -n "__fish_holdfast_using_subcommand help; and not __fish_seen_subcommand_from check run sim sweep report demo genhash help" -f -a "report" -d 'Plot a trace or a sweep: timeline, distributions and an HTML page'
complete -c holdfast -n "__fish_holdfast_using_subcommand help; and not __fish_seen_subcommand_from check run sim sweep report demo genhash help" -f -a "demo" -d 'Simulate the case study, sweep it, and write the report: the first thing to run'
complete -c holdfast -n "__fish_holdfast_using_subcommand help; and not __fish_seen_subcommand_from check run sim sweep report demo genhash help" -f -a "genhash" -d 'Fetch a url as HTTP_GET / SSL_GET do and print the digest for its `digest` line (keepalived\'s genhash)'
complete -c holdfast -n "__fish_holdfast_using_subcommand help; and not __fish_seen_subcommand_from check run sim sweep report demo genhash help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
