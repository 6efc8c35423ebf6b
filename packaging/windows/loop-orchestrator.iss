; Inno Setup 6 script: the Windows installer of the PyInstaller bundle (packaging/orchestrator-gui.spec).
; Built by .github/workflows/installers.yml; NOT built or run on the project's Linux machines.
;   iscc /DAppVersion=0.1.0 /DSourceDir=C:\...\build\pyinstaller\dist\orchestrator-gui /DOutputDir=C:\...\dist loop-orchestrator.iss
; Output: loop-orchestrator-<version>-windows-x64-setup.exe

#ifndef AppVersion
  #error Pass the version from pyproject.toml: /DAppVersion=X.Y.Z
#endif
#ifndef SourceDir
  #define SourceDir "..\..\build\pyinstaller\dist\orchestrator-gui"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#define AppName "Loop Orchestrator"
#define GuiExe "Loop Orchestrator.exe"
#define CliExe "orchestrator-gui.exe"

[Setup]
AppId={{B40E30E9-4687-46C1-AF8B-F242F03A5C1C}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; A per-user install needs no administrator; the dialog offers an all-users install too.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=loop-orchestrator-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#GuiExe}
ChangesEnvironment=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Put orchestrator-gui on the PATH (command line)"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#GuiExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#GuiExe}"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; \
  Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\{#GuiExe}"; Parameters: "--demo"; Description: "Open {#AppName} on the demo workspace"; \
  Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Path) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
