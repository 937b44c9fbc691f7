#include "commands.hpp"
namespace mpe::cli {
void add_aggregate_command(CLI::App&) {}
}
