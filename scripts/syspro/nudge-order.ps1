<#
.SYNOPSIS
  Nudges ml-connector to sync one SYSPRO sales order now (instead of at the next poll).

.DESCRIPTION
  powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File nudge-order.ps1 <SalesOrder>

  Settings come from the environment, else from nudge-order.conf next to this script (or the file
  named by ML_CONNECTOR_NUDGE_CONF), KEY=VALUE lines, '#' comments (the same file as nudge-order.sh):
    URL=https://connector.example.com:8080   ML_CONNECTOR_URL         the connector's base URL
    CONNECTION=main                          ML_CONNECTOR_CONNECTION  default main
    TOKEN=...                                ML_CONNECTOR_TOKEN       the connection's api.token
    TIMEOUT=10                               ML_CONNECTOR_TIMEOUT     seconds, default 10
    LOG=C:\ml-connector\nudge.log            ML_CONNECTOR_NUDGE_LOG   optional: one line per call
  The token is never taken from the command line (it would show in process lists and in SYSPRO's
  trigger setup). Restrict the .conf file to the account SYSPRO runs triggers as, e.g.
    icacls nudge-order.conf /inheritance:r /grant:r "DOMAIN\syspro-svc:R" "BUILTIN\Administrators:F"

  Exit code: 0 queued, 2 usage or settings, 3 refused by the connector (401/404/400),
  4 connector unreachable or failing (the poll still syncs the order later).
  Written for Windows PowerShell 5.1 (Windows Server) and PowerShell 7.
#>
param([Parameter(Position = 0)][string]$SalesOrder)

$ErrorActionPreference = 'Stop'
$script:LogFile = $null

function Write-NudgeLog([string]$Outcome, [string]$Text) {
  if (-not $script:LogFile) { return }
  try {
    $line = '{0} {1} order={2} {3}' -f (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ'), $Outcome, $SalesOrder, $Text
    Add-Content -LiteralPath $script:LogFile -Value $line -Encoding UTF8
  } catch { }
}

function Stop-Nudge([int]$Code, [string]$Text) {
  [Console]::Error.WriteLine("nudge-order: $Text")
  Write-NudgeLog 'error' $Text
  exit $Code
}

# KEY=VALUE settings; only the known keys, nothing is executed.
function Read-NudgeConf([string]$Path) {
  $conf = @{}
  if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { return $conf }
  foreach ($raw in Get-Content -LiteralPath $Path) {
    $line = $raw.Trim()
    if ($line -eq '' -or $line.StartsWith('#')) { continue }
    $at = $line.IndexOf('=')
    if ($at -lt 1) { continue }
    $key = $line.Substring(0, $at).Trim()
    if (@('URL', 'CONNECTION', 'TOKEN', 'TIMEOUT', 'LOG') -contains $key) {
      $conf[$key] = $line.Substring($at + 1).Trim()
    }
  }
  return $conf
}

function Get-Setting([hashtable]$Conf, [string]$EnvName, [string]$Key, [string]$Default) {
  $fromEnv = [Environment]::GetEnvironmentVariable($EnvName)
  if ($fromEnv) { return $fromEnv }
  if ($Conf.ContainsKey($Key) -and $Conf[$Key]) { return $Conf[$Key] }
  return $Default
}

$confPath = [Environment]::GetEnvironmentVariable('ML_CONNECTOR_NUDGE_CONF')
if (-not $confPath) { $confPath = Join-Path $PSScriptRoot 'nudge-order.conf' }
$conf = Read-NudgeConf $confPath
$url = Get-Setting $conf 'ML_CONNECTOR_URL' 'URL' ''
$connection = Get-Setting $conf 'ML_CONNECTOR_CONNECTION' 'CONNECTION' 'main'
$token = Get-Setting $conf 'ML_CONNECTOR_TOKEN' 'TOKEN' ''
$timeout = Get-Setting $conf 'ML_CONNECTOR_TIMEOUT' 'TIMEOUT' '10'
$script:LogFile = Get-Setting $conf 'ML_CONNECTOR_NUDGE_LOG' 'LOG' ''

if ($null -eq $SalesOrder) { $SalesOrder = '' }
$SalesOrder = $SalesOrder.Trim()
if ($SalesOrder -notmatch '^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$') { Stop-Nudge 2 "`"$SalesOrder`" is not a SYSPRO sales order number (usage: nudge-order.ps1 <SalesOrder>)" }
if (-not $url) { Stop-Nudge 2 'no connector URL: set ML_CONNECTOR_URL or URL= in nudge-order.conf' }
if (-not $token) { Stop-Nudge 2 'no token: set ML_CONNECTOR_TOKEN or TOKEN= in nudge-order.conf' }
if ($connection -cnotmatch '^[a-z0-9][a-z0-9-]*$') { Stop-Nudge 2 "`"$connection`" is not a connection name" }
if ($timeout -notmatch '^[0-9]+$') { Stop-Nudge 2 'TIMEOUT must be a number of seconds' }

# Windows PowerShell 5.1 may default to TLS 1.0; the connector behind HTTPS wants 1.2 or later.
try { [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12 } catch { }

$endpoint = '{0}/api/connections/{1}/orders/{2}/sync' -f $url.TrimEnd('/'), $connection, $SalesOrder
try {
  $response = Invoke-WebRequest -Uri $endpoint -Method Post -UseBasicParsing -TimeoutSec ([int]$timeout) `
    -Headers @{ Authorization = "Bearer $token" }
  $status = [int]$response.StatusCode
  $answer = [string]$response.Content
} catch {
  $failed = $_.Exception.Response
  if ($null -eq $failed) { Stop-Nudge 4 "the connector at $url did not answer: $($_.Exception.Message)" }
  $status = [int]$failed.StatusCode
  $answer = [string]$_.ErrorDetails.Message
}
if ($answer.Length -gt 500) { $answer = $answer.Substring(0, 500) }

if ($status -eq 202) {
  Write-Output "nudge-order: sales order $SalesOrder queued: $answer"
  Write-NudgeLog 'ok' $answer
  exit 0
}
if (@(400, 401, 403, 404) -contains $status) { Stop-Nudge 3 "refused (HTTP $status): $answer" }
Stop-Nudge 4 "the connector answered HTTP $status: $answer"
