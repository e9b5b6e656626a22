<resource schema="astrohub" resdir=".">
  <meta name="creationDate">2026-11-24T00:00:00Z</meta>
  <meta name="title">astrohub demo survey</meta>
  <meta name="description">
    A deterministic, fully simulated survey built by astrohub from seeded
    simulators: a ugriz catalogue with redshifts and classes, image cutouts
    (galaxy morphology, strong lenses, transient triplets), 1-D spectra of
    stars, galaxies and quasars, and light curves (transits, eclipsing
    binaries, variables).
  </meta>
  <meta name="creator">astrohub</meta>
  <meta name="subject">surveys</meta>
  <meta name="instrument">astrohub simulators</meta>
  <meta name="facility">astrohub</meta>
  <meta name="contentLevel">Research</meta>
  <meta name="type">Simulation</meta>
  <meta name="coverage.waveband">Optical</meta>

  <!-- ============ catalogue ============ -->
  <table id="objects" onDisk="True" adql="True" mixin="//scs#pgs-pos-index"
      primary="obj_id">
    <meta name="description">The demo survey's source catalogue.</meta>
    <meta name="_associatedDatalinkService">
      <meta name="serviceId">dl</meta>
      <meta name="idColumn">obj_id</meta>
    </meta>
    <column name="obj_id" type="bigint" ucd="meta.id;meta.main" required="True"
      description="Object identifier"/>
    <column name="ra" type="double precision" unit="deg" ucd="pos.eq.ra;meta.main"
      description="Right ascension (ICRS)" verbLevel="1"/>
    <column name="dec" type="double precision" unit="deg" ucd="pos.eq.dec;meta.main"
      description="Declination (ICRS)" verbLevel="1"/>
    <LOOP listItems="u g r i z">
      <events>
        <column name="mag_\item" type="real" unit="mag" ucd="phot.mag"
          description="AB magnitude in \item" verbLevel="1"/>
      </events>
    </LOOP>
    <LOOP listItems="u g r i z">
      <events>
        <column name="err_\item" type="real" unit="mag" ucd="stat.error;phot.mag"
          description="1-sigma error of mag_\item" verbLevel="1"/>
      </events>
    </LOOP>
    <column name="redshift" type="real" ucd="src.redshift"
      description="Spectroscopic redshift where known (NULL otherwise)"/>
    <column name="redshift_err" type="real" ucd="stat.error;src.redshift"
      description="Error of redshift"/>
    <column name="class_label" type="smallint" ucd="src.class" required="True"
      description="Spectroscopic class: 0 star, 1 galaxy, 2 qso, -1 unknown"/>
    <column name="class_name" type="text" ucd="src.class"
      description="Spectroscopic class name (NULL where unknown)"/>
  </table>

  <data id="import_objects">
    <sources>data/objects.fits</sources>
    <fitsTableGrammar/>
    <make table="objects">
      <rowmaker idmaps="*">
        <map key="redshift">None if @redshift!=@redshift else @redshift</map>
        <map key="redshift_err">None if @redshift_err!=@redshift_err else @redshift_err</map>
        <map key="class_name">@class_name.strip() or None</map>
      </rowmaker>
    </make>
  </data>

  <!-- ============ image cutouts (SIAP) ============ -->
  <table id="cutouts" onDisk="True" mixin="//siap#pgs" adql="True">
    <meta name="description">Image cutouts (r band, 0.2 arcsec/pixel, sky-rms units;
      transient alert triplets 1.01 arcsec/pixel in counts; galaxies of task colour as
      an SDSS-like survey serves them: one g, one r and one i cutout each, 0.396
      arcsec/pixel, nanomaggies).</meta>
    <mixin
      collectionName="'astrohub-demo'"
      calibLevel="2"
      productSubtype="CASE WHEN task='transient' THEN 'alert-triplet' ELSE NULL END"
      sResolution="COALESCE(psf_fwhm, pixelScale[1]*3600)"
      oUCD="CASE WHEN task='transient' THEN 'phot.count' WHEN task='colour' THEN 'phot.flux;em.opt' ELSE 'phot.flux;em.opt.R' END"
      targetName="'obj-'||obj_id"
      instrumentName="'astrohub simulator'"
      createDIDIndex="True">//obscore#publishSIAP</mixin>
    <column name="obj_id" type="bigint" ucd="meta.id" required="True"
      description="obj_id of the catalogue object this cutout shows"/>
    <column name="task" type="text" ucd="meta.code"
      description="Simulation task: morphology, lens, transient or colour (g, r, i cutouts of one galaxy)"/>
    <column name="label" type="smallint" ucd="src.class"
      description="Class index within the task"/>
    <column name="class_name" type="text" ucd="src.class"
      description="Class name within the task"/>
    <column name="psf_fwhm" type="real" unit="arcsec" ucd="instr.obsty.seeing"
      description="FWHM of the image's PSF (NULL where not recorded)"/>
    <index columns="obj_id"/>
  </table>

  <data id="import_cutouts">
    <sources pattern="data/cutouts/*.fits"/>
    <fitsProdGrammar>
      <rowfilter procDef="//products#define">
        <bind key="table">"\schema.cutouts"</bind>
      </rowfilter>
    </fitsProdGrammar>
    <make table="cutouts">
      <rowmaker>
        <apply procDef="//siap#setMeta">
          <bind key="dateObs">@DATE_OBS</bind>
          <bind key="bandpassId">@FILTER</bind>
          <bind key="bandpassRefval">float(@WAVEREF)</bind>
          <bind key="bandpassLo">float(@WAVEMIN)</bind>
          <bind key="bandpassHi">float(@WAVEMAX)</bind>
          <bind key="pixflags">"V"</bind>
          <bind key="title">"{} {} {}".format(@TASK, @CLASS, @OBJ_ID)</bind>
        </apply>
        <apply procDef="//siap#computePGS"/>
        <map key="obj_id">int(@OBJ_ID)</map>
        <map key="task">@TASK</map>
        <map key="label">int(@LABEL)</map>
        <map key="class_name">@CLASS</map>
        <map key="psf_fwhm">vars.get("PSF_FWHM")</map>
      </rowmaker>
    </make>
  </data>

  <service id="im" allowed="form,siap.xml">
    <meta name="shortName">astrohub SIAP</meta>
    <meta name="sia.type">Pointed</meta>
    <meta name="testQuery.pos.ra">150.0</meta>
    <meta name="testQuery.pos.dec">2.2</meta>
    <meta name="testQuery.size.ra">0.1</meta>
    <meta name="testQuery.size.dec">0.1</meta>
    <dbCore queriedTable="cutouts">
      <condDesc original="//siap#protoInput"/>
      <condDesc original="//siap#humanInput"/>
      <condDesc buildFrom="obj_id"/>
      <condDesc buildFrom="task"/>
    </dbCore>
  </service>

  <!-- ============ spectra (SSAP) ============ -->
  <table id="spectra" onDisk="True" adql="True">
    <meta name="description">1-D spectra (FITS binary tables WAVE, FLUX, ERROR).</meta>
    <mixin
      fluxUnit="1e-17 erg/(s.cm**2.Angstrom)"
      spectralUnit="Angstrom"
      spectralUCD="em.wl"
      fluxUCD="phot.flux.density;em.wl"
      timeSI="d"
      fluxSI="1e-7 W/(m**2.m)"
      spectralSI="m"
      collection="astrohub-demo"
      datasource="artificial"
      creationType="archival"
      fluxCalibration="CALIBRATED"
      spectralCalibration="CALIBRATED">//ssap#hcd</mixin>
    <mixin>//ssap#simpleCoverage</mixin>
    <mixin
      coverage="ssa_region"
      calibLevel="2"
      tMin="ssa_dateObs"
      tMax="ssa_dateObs"
      preview="NULL"
      targetName="ssa_targname"
      targetClass="NULL"
      createDIDIndex="True">//obscore#publishSSAPHCD</mixin>
    <column name="obj_id" type="bigint" ucd="meta.id" required="True"
      description="obj_id of the catalogue object"/>
    <column name="label" type="smallint" ucd="src.class"
      description="Spectral class: 0 star, 1 galaxy, 2 qso"/>
    <index columns="obj_id"/>
  </table>

  <data id="import_spectra">
    <sources pattern="data/spectra/*.fits"/>
    <fitsProdGrammar>
      <rowfilter procDef="//products#define">
        <bind key="table">"\schema.spectra"</bind>
        <bind key="mime">"application/fits"</bind>
        <bind key="preview">None</bind>
      </rowfilter>
    </fitsProdGrammar>
    <make table="spectra">
      <rowmaker idmaps="ssa_*">
        <apply procDef="//ssap#setMeta">
          <bind key="pubDID">getStandardPubDID(@prodtblAccref)</bind>
          <bind key="dstitle">"{} {}".format(@CLASS, @OBJ_ID)</bind>
          <bind key="targname">"obj-"+str(@OBJ_ID)</bind>
          <bind key="redshift">float(@Z)</bind>
          <bind key="snr">float(@SNR)</bind>
          <bind key="alpha">float(@RA)</bind>
          <bind key="delta">float(@DEC)</bind>
          <bind key="aperture">1/3600.</bind>
          <bind key="dateObs">dateTimeToMJD(parseTimestamp(@DATE_OBS, "%Y-%m-%dT%H:%M:%S"))</bind>
          <bind key="specstart">float(@WMIN)*1e-10</bind>
          <bind key="specend">float(@WMAX)*1e-10</bind>
          <bind key="length">int(@NPIX)</bind>
          <bind key="bandpass">"Optical"</bind>
        </apply>
        <map key="obj_id">int(@OBJ_ID)</map>
        <map key="label">int(@LABEL)</map>
      </rowmaker>
    </make>
  </data>

  <service id="ssa" allowed="form,ssap.xml">
    <meta name="shortName">astrohub SSAP</meta>
    <meta name="ssap.dataSource">artificial</meta>
    <meta name="ssap.creationType">archival</meta>
    <meta name="ssap.testQuery">MAXREC=1</meta>
    <meta name="ssap.complianceLevel">query</meta>
    <ssapCore queriedTable="spectra">
      <FEED source="//ssap#hcd_condDescs"/>
    </ssapCore>
  </service>

  <!-- ============ light curves ============ -->
  <table id="lightcurves" onDisk="True" adql="True" mixin="//products#table">
    <meta name="description">Light curves (FITS binary tables TIME, FLUX, FLUX_ERR;
      TIME in days since the header's MJDREF).</meta>
    <mixin
      productType="'timeseries'"
      collectionName="'astrohub-demo'"
      calibLevel="2"
      title="'light curve obj-'||obj_id"
      targetName="'obj-'||obj_id"
      ra="ra"
      dec="dec"
      fov="2/3600."
      coverage="coverage"
      tMin="t_min"
      tMax="t_max"
      emMin="em_min"
      emMax="em_max"
      oUCD="'phot.flux;em.opt'"
      tXel="t_xel"
      facilityName="'astrohub'"
      instrumentName="'astrohub simulator'"
      preview="NULL"
      createDIDIndex="True">//obscore#publish</mixin>
    <column name="obj_id" type="bigint" ucd="meta.id" required="True"
      description="obj_id of the catalogue object"/>
    <column name="ra" type="double precision" unit="deg" ucd="pos.eq.ra"
      description="Right ascension"/>
    <column name="dec" type="double precision" unit="deg" ucd="pos.eq.dec"
      description="Declination"/>
    <column name="label" type="smallint" ucd="src.class"
      description="0 planet-transit, 1 eclipsing-binary, 2 variable, 3 noise"/>
    <column name="class_name" type="text" ucd="src.class" description="Class name"/>
    <column name="period" type="real" unit="d" ucd="time.period"
      description="Injected period (0 where none)"/>
    <column name="coverage" type="spoly" unit="deg" ucd="pos.outline;obs.field"
      description="A 2 arcsec square around the star (the photometric aperture)"/>
    <column name="t_min" type="double precision" unit="d" ucd="time.start;obs.exposure"
      description="MJD of the first point"/>
    <column name="t_max" type="double precision" unit="d" ucd="time.end;obs.exposure"
      description="MJD of the last point"/>
    <column name="em_min" type="real" unit="m" ucd="em.wl;stat.min"
      description="Short end of the band"/>
    <column name="em_max" type="real" unit="m" ucd="em.wl;stat.max"
      description="Long end of the band"/>
    <column name="t_xel" type="integer" ucd="meta.number"
      description="Number of points"/>
    <index columns="obj_id"/>
  </table>

  <data id="import_lightcurves">
    <sources pattern="data/lightcurves/*.fits"/>
    <fitsProdGrammar>
      <rowfilter procDef="//products#define">
        <bind key="table">"\schema.lightcurves"</bind>
        <bind key="mime">"application/fits"</bind>
        <bind key="preview">None</bind>
      </rowfilter>
    </fitsProdGrammar>
    <make table="lightcurves">
      <rowmaker idmaps="*">
        <map key="obj_id">int(@OBJ_ID)</map>
        <map key="ra">float(@RA)</map>
        <map key="dec">float(@DEC)</map>
        <map key="label">int(@LABEL)</map>
        <map key="class_name">@CLASS</map>
        <map key="period">float(@PERIOD)</map>
        <apply name="aperture_square">
          <code>
            ra, dec, h = float(@RA), float(@DEC), 1/3600.
            w = h/math.cos(math.radians(dec))
            result["coverage"] = pgsphere.SPoly.fromDALI(
              [ra-w, dec-h, ra-w, dec+h, ra+w, dec+h, ra+w, dec-h])
          </code>
        </apply>
        <map key="t_min">float(@TSTART)</map>
        <map key="t_max">float(@TSTOP)</map>
        <map key="em_min">float(@WAVEMIN)</map>
        <map key="em_max">float(@WAVEMAX)</map>
        <map key="t_xel">int(@NPTS)</map>
      </rowmaker>
    </make>
  </data>

  <!-- ============ cone search ============ -->
  <service id="cone" allowed="scs.xml,form">
    <meta name="shortName">astrohub SCS</meta>
    <meta name="testQuery.ra">150.0</meta>
    <meta name="testQuery.dec">2.2</meta>
    <meta name="testQuery.sr">0.01</meta>
    <scsCore queriedTable="objects">
      <FEED source="//scs#coreDescs"/>
    </scsCore>
  </service>

  <!-- ============ datalink: catalogue rows to their data products ============ -->
  <service id="dl" allowed="dlget,dlmeta">
    <meta name="title">astrohub object datalink</meta>
    <datalinkCore>
      <descriptorGenerator>
        <code>
          from gavo import base
          try:
            objId = int(str(pubDID).rsplit("?", 1)[-1].rsplit("/", 1)[-1])
          except ValueError:
            return DatalinkFault.NotFoundFault(pubDID,
              "Not an astrohub object id (expected an integer obj_id)")
          with base.getTableConn() as conn:
            found = list(conn.query(
              "SELECT 1 FROM \schema.objects WHERE obj_id=%(o)s", {"o": objId}))
            links = []
            for kind, table in [("cutout", "cutouts"), ("spectrum", "spectra"),
                ("lightcurve", "lightcurves")]:
              for accref, mime in conn.query(
                  "SELECT accref, mime FROM \schema."+table
                  +" WHERE obj_id=%(o)s ORDER BY accref", {"o": objId}):
                links.append((kind, accref, mime))
          if not found:
            return DatalinkFault.NotFoundFault(pubDID,
              "No object with obj_id %d in \schema.objects"%objId)
          desc = ProductDescriptor(pubDID, None, None, None)
          desc.suppressAutoLinks = True
          desc.objLinks = links
          return desc
        </code>
      </descriptorGenerator>
      <metaMaker semantics="#counterpart">
        <code>
          from gavo.protocols import products
          for kind, accref, mime in descriptor.objLinks:
            yield descriptor.makeLink(products.makeProductLink(accref),
              description="astrohub "+kind, contentType=mime,
              localSemantics=kind, semantics="#counterpart")
        </code>
      </metaMaker>
    </datalinkCore>
  </service>
</resource>
