<resource schema="realsurvey" resdir=".">
  <meta name="creationDate">2026-11-29T00:00:00Z</meta>
  <meta name="title">Real survey sample (SDSS DR14, ZTF alerts, Kepler/TESS, Galaxy Zoo 1)</meta>
  <meta name="description">
    Real data laid out as a survey archive publishes it: SDSS DR14
    photometry with spectroscopic classes and redshifts (SpecPhoto column
    names and UCDs), ZTF alert stamp triplets, Kepler/TESS light curves and
    Galaxy Zoo 1 subjects with their SDSS colour JPEGs, the products
    discoverable through ivoa.obscore and DataLink.  Built from the kits
    sdss_photoz, ztf_alerts, kepler_lightcurves and galaxyzoo1_jpeg (see
    their PROVENANCE.md for sources and licences).
  </meta>
  <meta name="creator">SDSS; ZTF; Kepler and TESS missions; Galaxy Zoo (sampled by astrohub)</meta>
  <meta name="subject">surveys</meta>
  <meta name="facility">SDSS 2.5m; P48; Kepler; TESS</meta>
  <meta name="contentLevel">Research</meta>
  <meta name="type">Archive</meta>
  <meta name="coverage.waveband">Optical</meta>

  <!-- ============ SDSS DR14 SpecPhoto-like catalogue ============ -->
  <table id="specphoto" onDisk="True" adql="True" mixin="//scs#pgs-pos-index"
      primary="objid">
    <meta name="description">SDSS DR14 photometric objects with a spectrum
      (PhotoObj joined with SpecObj, as SDSS's SpecPhoto view): model
      magnitudes, spectroscopic class and redshift.</meta>
    <column name="objid" type="bigint" ucd="meta.id;meta.main" required="True"
      description="SDSS objID (bit layout of DR8+: skyVersion, rerun, run,
        camcol, field, obj); the source file truncates objIDs, so the obj bits
        are a sequence number within the field"/>
    <column name="ra" type="double precision" unit="deg" ucd="pos.eq.ra;meta.main"
      description="Right ascension (J2000)" verbLevel="1"/>
    <column name="dec" type="double precision" unit="deg" ucd="pos.eq.dec;meta.main"
      description="Declination (J2000)" verbLevel="1"/>
    <LOOP>
      <csvItems>
        band, ucd
        u, em.opt.U
        g, em.opt.B
        r, em.opt.R
        i, em.opt.I
        z, em.opt.I
      </csvItems>
      <events>
        <column name="modelmag_\band" type="real" unit="mag" ucd="phot.mag;\ucd"
          description="Model magnitude in \band (better of DeV/Exp; not
            corrected for extinction)" verbLevel="1"/>
      </events>
    </LOOP>
    <LOOP>
      <csvItems>
        band, ucd
        u, em.opt.U
        g, em.opt.B
        r, em.opt.R
        i, em.opt.I
        z, em.opt.I
      </csvItems>
      <events>
        <column name="modelmagerr_\band" type="real" unit="mag"
          ucd="stat.error;phot.mag;\ucd"
          description="Error of modelmag_\band (the source file has none: from
            the survey depth, sqrt(0.01^2+(0.2*10^(0.4*(m-m5)))^2))"
          verbLevel="1"/>
      </events>
    </LOOP>
    <column name="class" type="text" ucd="src.class"
      description="Spectroscopic class (GALAXY, STAR, QSO)"/>
    <column name="z" type="real" ucd="src.redshift"
      description="Spectroscopic redshift"/>
    <column name="run" type="integer" ucd="obs.field" description="Run number"/>
    <column name="rerun" type="integer" ucd="obs.field" description="Rerun number"/>
    <column name="camcol" type="smallint" ucd="obs.field" description="Camera column"/>
    <column name="field" type="integer" ucd="obs.field" description="Field number"/>
    <column name="plate" type="integer" ucd="obs.field" description="Spectroscopic plate"/>
    <column name="mjd" type="integer" unit="d" ucd="time.epoch"
      description="MJD of the spectroscopic observation"/>
    <column name="fiberid" type="smallint" ucd="meta.id"
      description="Fiber of the spectrum on the plate"/>
  </table>

  <data id="import_specphoto">
    <sources>data/specphoto.fits</sources>
    <fitsTableGrammar/>
    <make table="specphoto">
      <rowmaker idmaps="*">
        <map key="class">@class.strip()</map>
      </rowmaker>
    </make>
  </data>

  <service id="cone" allowed="scs.xml,form">
    <meta name="shortName">SDSS sample SCS</meta>
    <meta name="testQuery.ra">183.53</meta>
    <meta name="testQuery.dec">0.09</meta>
    <meta name="testQuery.sr">0.01</meta>
    <scsCore queriedTable="specphoto">
      <FEED source="//scs#coreDescs"/>
    </scsCore>
  </service>

  <!-- ============ ZTF alert triplets ============ -->
  <table id="ztf_alerts" onDisk="True" adql="True" mixin="//products#table">
    <meta name="description">ZTF alerts: the candidate's measurements and, as
      the product, its 63x63 stamp triplet (science, reference, difference;
      raw counts, NaN where masked) as one 3-plane FITS image.</meta>
    <meta name="_associatedDatalinkService">
      <meta name="serviceId">dl</meta>
      <meta name="idColumn">pubdid</meta>
    </meta>
    <mixin
      productType="'image'"
      productSubtype="'alert-triplet'"
      collectionName="'ZTF alerts'"
      calibLevel="1"
      title="'ZTF alert '||objectid||' '||candid"
      did="pubdid"
      accessURL="\sqlquote{\internallink{realsurvey/q/dl/dlmeta}}||'?ID='||gavo_urlescape(pubdid)"
      mime="'application/x-votable+xml;content=datalink'"
      targetName="objectid"
      ra="ra"
      dec="dec"
      fov="63*1.01/3600."
      coverage="coverage"
      tMin="jd-2400000.5"
      tMax="jd-2400000.5+30/86400."
      emMin="em_min"
      emMax="em_max"
      oUCD="'phot.count'"
      sResolution="2.0"
      sPixelScale="1.01"
      sXel1="63"
      sXel2="63"
      facilityName="'Palomar P48'"
      instrumentName="'ZTF'"
      preview="NULL"
      createDIDIndex="True">//obscore#publish</mixin>
    <column name="pubdid" type="text" ucd="meta.ref.ivoid"
      description="Publisher DID of the stamp triplet (DataLink ID)"/>
    <column name="candid" type="bigint" ucd="meta.id;meta.main" required="True"
      description="ZTF candidate id"/>
    <column name="objectid" type="text" ucd="meta.id"
      description="ZTF object id"/>
    <column name="jd" type="double precision" unit="d" ucd="time.epoch;obs"
      description="Julian date of the exposure"/>
    <column name="fid" type="smallint" ucd="instr.filter"
      description="Filter id (1 g, 2 r, 3 i)"/>
    <column name="ra" type="double precision" unit="deg" ucd="pos.eq.ra;meta.main"
      description="Right ascension of the candidate"/>
    <column name="dec" type="double precision" unit="deg" ucd="pos.eq.dec;meta.main"
      description="Declination of the candidate"/>
    <column name="magpsf" type="real" unit="mag" ucd="phot.mag"
      description="PSF-fit magnitude on the difference image"/>
    <column name="sigmapsf" type="real" unit="mag" ucd="stat.error;phot.mag"
      description="Error of magpsf"/>
    <column name="isdiffpos" type="text" ucd="meta.code"
      description="t: candidate from science minus reference, f: the reverse"/>
    <column name="rb" type="real" ucd="stat.likelihood"
      description="ZTF random-forest real/bogus score"/>
    <column name="drb" type="real" ucd="stat.likelihood"
      description="ZTF deep-learning real/bogus score (NULL before 2019)"/>
    <column name="programid" type="smallint" ucd="meta.code"
      description="ZTF programme (1 public)"/>
    <column name="fwhm" type="real" unit="pix" ucd="phys.size"
      description="FWHM of the candidate (pixels of 1.01 arcsec)"/>
    <column name="coverage" type="spoly" unit="deg" ucd="pos.outline;obs.field"
      description="Stamp footprint (approximate, north-up)"/>
    <column name="em_min" type="real" unit="m" ucd="em.wl;stat.min"
      description="Short end of the filter"/>
    <column name="em_max" type="real" unit="m" ucd="em.wl;stat.max"
      description="Long end of the filter"/>
    <index columns="pubdid"/>
  </table>

  <data id="import_ztf">
    <sources>data/ztf_alerts.fits</sources>
    <fitsTableGrammar>
      <rowfilter procDef="//products#define">
        <bind key="table">"\schema.ztf_alerts"</bind>
        <bind key="accref">"realsurvey/"+@path.strip()</bind>
        <bind key="path">"realsurvey/"+@path.strip()</bind>
        <bind key="fsize">int(@fsize)</bind>
        <bind key="mime">"image/fits"</bind>
        <bind key="preview">None</bind>
      </rowfilter>
    </fitsTableGrammar>
    <make table="ztf_alerts">
      <rowmaker idmaps="candid,jd,fid,ra,dec,magpsf,sigmapsf,programid">
        <map key="pubdid">getStandardPubDID(@prodtblAccref)</map>
        <map key="objectid">@objectid.strip()</map>
        <map key="isdiffpos">@isdiffpos.strip()</map>
        <map key="rb">None if @rb!=@rb else @rb</map>
        <map key="drb">None if @drb!=@drb else @drb</map>
        <map key="fwhm">None if @fwhm!=@fwhm else @fwhm</map>
        <apply name="footprint">
          <code>
            ra, dec, h = float(@ra), float(@dec), 31.5*1.01/3600.
            w = h/math.cos(math.radians(dec))
            result["coverage"] = pgsphere.SPoly.fromDALI(
              [ra-w, dec-h, ra-w, dec+h, ra+w, dec+h, ra+w, dec-h])
            result["em_min"], result["em_max"] = {1: (4.1e-7, 5.5e-7),
              2: (5.6e-7, 7.3e-7), 3: (7.0e-7, 9.0e-7)}[int(@fid)]
          </code>
        </apply>
      </rowmaker>
    </make>
  </data>

  <service id="dl" allowed="dlget,dlmeta">
    <meta name="title">ZTF alert stamp datalink</meta>
    <meta name="description">DataLink for a ZTF alert (ID = pubdid or
      obs_publisher_did): #this is the 3-plane FITS stamp triplet.</meta>
    <datalinkCore>
      <descriptorGenerator procDef="//soda#fromStandardPubDID">
        <bind key="accrefPrefix">"realsurvey/data/ztf/"</bind>
      </descriptorGenerator>
    </datalinkCore>
  </service>

  <!-- ============ Kepler / TESS light curves ============ -->
  <table id="lightcurves" onDisk="True" adql="True" mixin="//products#table">
    <meta name="description">Kepler and TESS light curves: the missions' FITS
      files (TIME in BKJD/BTJD, SAP_FLUX, PDCSAP_FLUX, QUALITY) as published,
      and text light curves converted to FITS tables TIME (BJD - TIMEOFFS),
      FLUX, FLUX_ERR.</meta>
    <mixin
      productType="'timeseries'"
      collectionName="'Kepler/TESS'"
      calibLevel="2"
      title="target||' '||mission||' light curve'"
      targetName="target"
      ra="ra"
      dec="dec"
      coverage="coverage"
      tMin="t_min"
      tMax="t_max"
      emMin="em_min"
      emMax="em_max"
      oUCD="'phot.flux;em.opt'"
      tXel="t_xel"
      tResolution="cadence"
      facilityName="mission"
      instrumentName="mission||' photometer'"
      preview="NULL"
      createDIDIndex="True">//obscore#publish</mixin>
    <column name="target" type="text" ucd="meta.id;src"
      description="Star name"/>
    <column name="mission" type="text" ucd="instr.tel"
      description="KEPLER or TESS"/>
    <column name="ra" type="double precision" unit="deg" ucd="pos.eq.ra;meta.main"
      description="Right ascension (NULL where the source does not say)"/>
    <column name="dec" type="double precision" unit="deg" ucd="pos.eq.dec;meta.main"
      description="Declination (NULL where the source does not say)"/>
    <column name="coverage" type="spoly" unit="deg" ucd="pos.outline;obs.field"
      description="A 4 arcsec square around the star"/>
    <column name="t_min" type="double precision" unit="d" ucd="time.start;obs.exposure"
      description="MJD (barycentric) of the first point"/>
    <column name="t_max" type="double precision" unit="d" ucd="time.end;obs.exposure"
      description="MJD (barycentric) of the last point"/>
    <column name="t_xel" type="integer" ucd="meta.number" description="Number of points"/>
    <column name="cadence" type="real" unit="s" ucd="time.interval"
      description="Sampling interval"/>
    <column name="em_min" type="real" unit="m" ucd="em.wl;stat.min"
      description="Short end of the mission band"/>
    <column name="em_max" type="real" unit="m" ucd="em.wl;stat.max"
      description="Long end of the mission band"/>
  </table>

  <data id="import_lightcurves">
    <sources>data/lightcurves.fits</sources>
    <fitsTableGrammar>
      <rowfilter procDef="//products#define">
        <bind key="table">"\schema.lightcurves"</bind>
        <bind key="accref">"realsurvey/"+@path.strip()</bind>
        <bind key="path">"realsurvey/"+@path.strip()</bind>
        <bind key="fsize">int(@fsize)</bind>
        <bind key="mime">"application/fits"</bind>
        <bind key="preview">None</bind>
      </rowfilter>
    </fitsTableGrammar>
    <make table="lightcurves">
      <rowmaker idmaps="t_min,t_max,t_xel,cadence,em_min,em_max">
        <map key="target">@target.strip()</map>
        <map key="mission">@mission.strip()</map>
        <map key="ra">None if @ra!=@ra else @ra</map>
        <map key="dec">None if @dec!=@dec else @dec</map>
        <apply name="footprint">
          <code>
            result["coverage"] = None
            if @ra==@ra:
              ra, dec, h = float(@ra), float(@dec), 2/3600.
              w = h/math.cos(math.radians(dec))
              result["coverage"] = pgsphere.SPoly.fromDALI(
                [ra-w, dec-h, ra-w, dec+h, ra+w, dec+h, ra+w, dec-h])
          </code>
        </apply>
      </rowmaker>
    </make>
  </data>

  <!-- ============ Galaxy Zoo 1 subjects ============ -->
  <table id="galaxyzoo" onDisk="True" adql="True" mixin="//products#table">
    <meta name="description">Galaxy Zoo 1 subjects: SDSS DR7 galaxies with
      the volunteers' classification and, as the product, the SDSS gri colour
      JPEG the volunteers saw (423x423 px, scaled to each galaxy's Petrosian
      size). The images carry no coordinates: positions are NULL.</meta>
    <mixin
      productType="'image'"
      productSubtype="'colour-composite'"
      collectionName="'Galaxy Zoo 1'"
      calibLevel="3"
      title="'Galaxy Zoo 1 subject '||dr7_objid"
      targetName="CAST(dr7_objid AS TEXT)"
      emMin="3.9e-7"
      emMax="8.4e-7"
      oUCD="'phot.flux;em.opt'"
      sXel1="423"
      sXel2="423"
      facilityName="'SDSS 2.5m'"
      instrumentName="'SDSS imager'"
      preview="NULL"
      createDIDIndex="True">//obscore#publish</mixin>
    <column name="dr7_objid" type="bigint" ucd="meta.id;meta.main" required="True"
      description="SDSS DR7 objID of the galaxy"/>
    <column name="gz1_class" type="text" ucd="src.morph.type"
      description="Galaxy Zoo 1 volunteers' most specific class: elliptical,
        spiral_cw, spiral_acw (clockwise, anticlockwise), edge_on, merger"/>
  </table>

  <data id="import_galaxyzoo">
    <sources>data/galaxyzoo.fits</sources>
    <fitsTableGrammar>
      <rowfilter procDef="//products#define">
        <bind key="table">"\schema.galaxyzoo"</bind>
        <bind key="accref">"realsurvey/"+@path.strip()</bind>
        <bind key="path">"realsurvey/"+@path.strip()</bind>
        <bind key="fsize">int(@fsize)</bind>
        <bind key="mime">"image/jpeg"</bind>
        <bind key="preview">None</bind>
      </rowfilter>
    </fitsTableGrammar>
    <make table="galaxyzoo">
      <rowmaker idmaps="dr7_objid">
        <map key="gz1_class">@gz1_class.strip()</map>
      </rowmaker>
    </make>
  </data>
</resource>
