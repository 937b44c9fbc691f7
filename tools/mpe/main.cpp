// mpe: command-line front end. Subcommands live in their own files (cmd_*.cpp).
#include <cstdio>
#include <exception>
#include <new>

#include <CLI/CLI.hpp>
#include <mpe/mpe.hpp>
#include <mpe/threads.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
  mpe::apply_omp_wait_policy(argv);  // first: may re-execute with OMP_WAIT_POLICY=passive
  CLI::App app{
      "mpe — message-passing inference engine\n"
      "Runs mpengine's ops and models from files on the CPU or a CUDA GPU."};
  app.require_subcommand(1);
  app.set_version_flag("--version", mpe::build_info().version);
  mpe::cli::add_info_command(app);
  mpe::cli::add_aggregate_command(app);
  mpe::cli::add_plan_command(app);
  mpe::cli::add_agent_command(app);
  mpe::cli::add_relevance_command(app);
  mpe::cli::add_bp_command(app);
  mpe::cli::add_embed_command(app);
  // No input may abort the program: every exception becomes one line on stderr and exit 2.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const mpe::Error& e) {
    std::fprintf(stderr, "mpe: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr,
                 "mpe: error: out_of_memory: the input needs more host memory than "
                 "could be allocated\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpe: error: internal: %s (please report this input)\n", e.what());
    return 2;
  } catch (...) {
    std::fprintf(stderr, "mpe: error: internal: an unknown exception (please report this input)\n");
    return 2;
  }
  return 0;
}
