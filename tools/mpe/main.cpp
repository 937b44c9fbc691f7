// mpe: command-line front end. Subcommands live in their own files (cmd_*.cpp).
#include <cstdio>
#include <exception>
#include <new>

#include <CLI/CLI.hpp>
#include <mpe/distributed.hpp>
#include <mpe/mpe.hpp>
#include <mpe/threads.hpp>

#include "commands.hpp"

namespace {
// Under mpirun an error must end every rank, never leave the others waiting: an error the ranks
// agreed on (dist::check_all) is printed once by rank 0 and every rank exits 2; an error of one
// rank alone is printed by that rank, which then aborts the job (MPI_Abort).
int fail(const char* text) {
  if (!mpe::dist::launched_by_mpi() || !mpe::dist::mpi_built()) {
    std::fprintf(stderr, "%s\n", text);
    return 2;
  }
  const auto comm = mpe::dist::world();
  if (comm->size() == 1) {
    std::fprintf(stderr, "%s\n", text);
    return 2;
  }
  comm->abort(2, std::string(text) + " (rank " + std::to_string(comm->rank()) + " of " +
                     std::to_string(comm->size()) + "; aborting the job)");
  return 2;  // not reached: abort() ends the process
}
}  // namespace

int main(int argc, char** argv) {
  mpe::apply_omp_wait_policy(argv);  // first: may re-execute with OMP_WAIT_POLICY=passive
  CLI::App app{
      "mpe — message-passing inference engine\n"
      "Runs mpengine's ops and models from files on the CPU or a CUDA GPU."};
  app.require_subcommand(1);
  if (mpe::dist::launched_by_mpi() && !mpe::dist::mpi_built()) {
    std::fprintf(stderr,
                 "mpe: warning: started by an MPI launcher, but this build has no MPI "
                 "(MPE_MPI=OFF or not found): every rank runs the whole job\n");
  }
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
  } catch (const mpe::dist::AgreedError& e) {
    if (mpe::dist::world()->rank() == 0) std::fprintf(stderr, "mpe: error: %s\n", e.what());
    return 2;
  } catch (const mpe::Error& e) {
    return fail((std::string("mpe: error: ") + e.what()).c_str());
  } catch (const std::bad_alloc&) {
    return fail("mpe: error: out_of_memory: the input needs more host memory than could be "
                "allocated");
  } catch (const std::exception& e) {
    return fail((std::string("mpe: error: internal: ") + e.what() + " (please report this input)")
                    .c_str());
  } catch (...) {
    return fail("mpe: error: internal: an unknown exception (please report this input)");
  }
  return 0;
}
